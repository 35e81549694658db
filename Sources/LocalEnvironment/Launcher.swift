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
        let plan: LaunchPlan
        do {
            plan = try LaunchPlan.make(options: options)
            try checkPorts(plan)
            try prepareStateDirectories(plan)
        } catch {
            printError("localenv: \(error)")
            return 1
        }
        let sink = OutputSink(names: ["localenv"] + plan.components.map(\.name), color: options.color)
        let supervisor = Supervisor(plan: plan, options: options, sink: sink, startedAt: startedAt)
        watchSignals(continuation: supervisor.continuation, hurry: supervisor.hurry)
        return await supervisor.run()
    }

    /// Every port before anything starts: a taken one is named (port, entry) and nothing runs.
    static func checkPorts(_ plan: LaunchPlan) throws(LauncherError) {
        let taken = PortCheck.taken(plan.portUses)
        guard !taken.isEmpty else { return }
        let lines = taken.map { use in
            let override = use.entry == "dns" ? "--dns-port <port>" : "--port \(use.entry)=<port>"
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

    /// SIGINT (Ctrl-C), SIGTERM and SIGHUP (terminal closed) stop everything; a second one stops
    /// waiting for graceful exits.
    nonisolated static func watchSignals(continuation: AsyncStream<Supervisor.Event>.Continuation, hurry: Locked<Bool>) {
        let received = Locked(0)
        SignalWatcher.start { number in
            let count = received.withLock { $0 += 1; return $0 }
            if count > 1 { hurry.withLock { $0 = true } }
            continuation.yield(.stop(number))
        }
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}
