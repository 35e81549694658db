import ControlSocket
import Foundation
import ProcessSupervision

#if canImport(Glibc)
import Glibc
#endif

/// The local environment launcher: fuge/fuge.yml in, the whole system running out.
///
/// Why a Swift executable rather than a script or Fuge itself: it reads the same fuge.yml people
/// with Fuge use, shares the service table, configuration and discovery code with the services,
/// and needs neither Node nor Docker — only what `scripts/setup` installs.
public enum Launcher {
    /// Runs until Ctrl-C/SIGTERM (0) or until something cannot start (1, after saying why).
    @MainActor
    public static func run(_ options: LaunchOptions) async -> Int32 {
        let startedAt = ContinuousClock.now
        var plan: LaunchPlan
        let sink: OutputSink
        let logs: [String: ComponentLog]
        do {
            plan = try LaunchPlan.make(options: options)
            try checkPorts(plan)
            try prepareStateDirectories(plan)
            try await LocalCredentials.prepare(&plan, environment: options.environment)
            sink = OutputSink(names: ["localenv"] + plan.components.map(\.name), color: options.color)
            logs = try openLogs(plan, sink: sink)
            for note in plan.notes { sink.write("localenv", note) }
        } catch {
            printError("localenv: \(error)")
            return 1
        }
        let supervisor = Supervisor(plan: plan, options: options, sink: sink, logs: logs, startedAt: startedAt)
        let control: ControlServer
        var devLoop: DevLoop?
        do {
            control = try await LocalControl.start(stateDirectory: plan.stateDirectory, supervisor: supervisor)
            if try watches(plan, options) {
                try await supervisor.holdServicePorts()
                devLoop = DevLoop(
                    supervisor: supervisor, root: plan.projectRoot, build: try buildCommand(plan, options),
                    environment: options.environment
                )
            }
        } catch {
            printError("localenv: \(error)")
            return 1
        }
        watchSignals(continuation: supervisor.continuation, hurry: supervisor.hurry)
        if let devLoop { Task { await devLoop.start() } }
        let status = await supervisor.run()
        devLoop?.stop()
        await control.stop()
        return status
    }

    /// `--watch` with fuge.yml's `monitor: true`; `monitor: false` wins (the file is shared with Fuge users).
    static func watches(_ plan: LaunchPlan, _ options: LaunchOptions) throws(LauncherError) -> Bool {
        guard options.watch else { return false }
        guard plan.fuge.global.monitor else {
            throw LauncherError("--watch: \(options.fugePath) says `monitor: false`; set it to true, or run without --watch")
        }
        return true
    }

    /// The build command with its first word resolved to a path (posix_spawn does not search PATH).
    static func buildCommand(_ plan: LaunchPlan, _ options: LaunchOptions) throws(LauncherError) -> [String] {
        guard let first = options.buildCommand.first else { throw LauncherError("--build-command is empty") }
        let tools = ToolLocator(environment: options.environment, projectRoot: plan.projectRoot)
        let path = first.contains("/") ? LaunchPlan.absolute(first, in: plan.projectRoot) : tools.find(first)
        guard let path, FileManager.default.isExecutableFile(atPath: path) else {
            throw LauncherError("--build-command: \(first) is not an executable (on PATH, or relative to \(plan.projectRoot))")
        }
        return [path] + options.buildCommand.dropFirst()
    }

    /// Every port before anything starts: a taken one is named (port, entry) and nothing runs.
    static func checkPorts(_ plan: LaunchPlan) throws(LauncherError) {
        let taken = PortCheck.taken(plan.portUses)
        guard !taken.isEmpty else { return }
        let entries = Set(plan.entries.map(\.name))
        let lines = taken.map { use in
            // Prometheus's DNS listens where the DNS port says (PrometheusStandIn.resolverAddress).
            let entry = use.name.map { use.entry + "." + $0 } ?? use.entry
            let override = entries.contains(use.entry) ? "--port \(entry)=<port>" : "--dns-port <port>"
            return "port \(use.port) (\(use.transport.rawValue) on \(use.host)) for \(use.entry) is already in use"
                + " — stop what holds it (ss -lntup 'sport = :\(use.port)') or pass \(override)"
        }
        throw LauncherError("nothing started:\n  " + lines.joined(separator: "\n  "))
    }

    static func prepareStateDirectories(_ plan: LaunchPlan) throws(LauncherError) {
        for folder in Set([plan.stateDirectory] + plan.components.map(\.workingDirectory)) {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw LauncherError("cannot create \(folder): \(error.localizedDescription)")
            }
        }
    }

    /// `<state>/<entry>.log` for every component; the servers' console output is filtered.
    static func openLogs(_ plan: LaunchPlan, sink: OutputSink) throws(LauncherError) -> [String: ComponentLog] {
        var logs: [String: ComponentLog] = [:]
        for spec in plan.components {
            logs[spec.name] = try ComponentLog(
                name: spec.name, path: plan.stateDirectory + "/\(spec.name).log", quiet: spec.role != .service, sink: sink
            )
        }
        return logs
    }

    /// SIGINT (Ctrl-C), SIGTERM and SIGHUP (terminal closed) stop everything; a second one stops
    /// waiting for graceful exits.
    nonisolated static func watchSignals(continuation: AsyncStream<Supervisor.Event>.Continuation, hurry: Locked<Bool>) {
        let received = Locked(0)
        SignalWatcher.start { number in
            let count = received.withLock {
                $0 += 1; return $0
            }
            if count > 1 { hurry.withLock { $0 = true } }
            continuation.yield(.stop(number))
        }
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
