import ArgumentParser
import ControlSocket
import Foundation
import LocalEnvironment

/// `localenv`: runs micro locally from fuge/fuge.yml — DNS with the cluster's names, Redis,
/// MongoDB and the four services — until Ctrl-C; `localenv ps|start|stop|restart|logs` steer the
/// running one. See README.md, "The local environment".
@main
struct LocalEnv: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "localenv",
        abstract: "Run the whole micro system locally, with the cluster's DNS names, from fuge/fuge.yml.",
        subcommands: [Up.self, Ps.self, Start.self, Stop.self, Restart.self, Logs.self],
        defaultSubcommand: Up.self
    )
}

/// Where the running launcher is: the same `--fuge`/`--state` as it was given.
struct Locator: ParsableArguments {
    @Option(help: "The environment description.")
    var fuge = "fuge/fuge.yml"

    @Option(help: "The launcher's state folder (default: <root>/.build/localenv).")
    var state: String?

    var stateDirectory: String { LaunchPlan.stateDirectory(fugePath: fuge, stateDirectory: state) }

    /// Sends the request to the running launcher and prints its answer; a refusal exits 1.
    func ask(_ command: String, _ arguments: String...) throws {
        do {
            let reply = try LocalControl.send(ControlRequest(command: command, arguments: arguments), stateDirectory: stateDirectory)
            print(reply.output)
            if !reply.ok { throw ExitCode(reply.exitCode) }
        } catch let error as LauncherError {
            FileHandle.standardError.write(Data("localenv: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start everything (the default command).",
        discussion: """
            Starts dnsmasq (the SRV and A records of every entry), redis-server, a MongoDB (mongod, \
            else nx-27017) and every service, waits for each /readyz, prints where to point a \
            browser and curl, streams every service's log with its name (the servers' logs go to \
            <state>/<entry>.log; their warnings and errors are shown), restarts what crashes, and \
            stops everything on Ctrl-C or SIGTERM. With --watch, a change under Sources/ builds the \
            affected services again and replaces each running one once its new version is ready.
            """
    )

    @OptionGroup var locator: Locator

    @Option(help: "Folder of the built services (default: each entry's run command, .build/release/<name>).")
    var bin: String?

    @Option(help: "DNS port instead of fuge.yml's dns_port.")
    var dnsPort: Int?

    @Option(
        name: .customLong("port"),
        help:
            "entry=port instead of the entry's (first) port in fuge.yml, entry.name=port instead of its port of that name, e.g. webapp.metrics=14000 (repeatable)."
    )
    var ports: [String] = []

    @Option(help: "Start only these entries, comma-separated (DNS always runs and answers for all).")
    var only: String?

    @Option(help: "Seconds to wait for every /readyz before saying which are not ready.")
    var readyTimeout: Double = 60

    @Option(help: "Seconds between SIGTERM and SIGKILL when stopping a component.")
    var stopGrace: Double = 5

    @Option(help: "Give up on a component that exits this many times in a row before becoming ready.")
    var maxStartFailures = 5

    @Flag(inversion: .prefixedNo, help: "Colour the name prefixes (default: when stdout is a terminal).")
    var color: Bool?

    @Flag(inversion: .prefixedNo, help: "Rebuild and replace services when Sources/ changes (fuge.yml's monitor).")
    var watch = false

    @Option(help: "How --watch builds a service; `--product <name>` is appended.")
    var buildCommand = "swift build -c release"

    func validate() throws {
        _ = try parsedPorts()
        guard maxStartFailures >= 1 else { throw ValidationError("--max-start-failures must be at least 1") }
        if let dnsPort, !(1...65535).contains(dnsPort) { throw ValidationError("--dns-port must be 1-65535") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let options = LaunchOptions(
            fugePath: locator.fuge, binDirectory: bin, stateDirectory: locator.state, dnsPort: dnsPort,
            portOverrides: try parsedPorts(), only: only.map { $0.split(separator: ",").map(String.init) },
            readyTimeout: .milliseconds(Int(readyTimeout * 1000)), stopGrace: .milliseconds(Int(stopGrace * 1000)),
            maxStartFailures: maxStartFailures, environment: environment, color: color, watch: watch,
            buildCommand: buildCommand.split(separator: " ").map(String.init)
        )
        let status = await Launcher.run(options)
        if status != 0 { throw ExitCode(status) }
    }

    private func parsedPorts() throws -> [String: Int] {
        var result: [String: Int] = [:]
        for text in ports {
            let parts = text.split(separator: "=")
            guard parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port) else {
                throw ValidationError(
                    "--port \(text): expected entry=port or entry.name=port, e.g. adderservice=18080, adderservice.metrics=19080")
            }
            result[String(parts[0])] = port
        }
        return result
    }
}

struct Ps: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show every component of the running launcher: state, pid, port, uptime, restarts, RSS, last readiness."
    )

    @OptionGroup var locator: Locator

    func run() throws { try locator.ask("ps") }
}

struct Start: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start an entry stopped with `localenv stop`.")

    @OptionGroup var locator: Locator
    @Argument(help: "The entry, as named in fuge.yml.") var entry: String

    func run() throws { try locator.ask("start", entry) }
}

struct Stop: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop an entry (it stays stopped until `localenv start`).")

    @OptionGroup var locator: Locator
    @Argument(help: "The entry, as named in fuge.yml.") var entry: String

    func run() throws { try locator.ask("stop", entry) }
}

struct Restart: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Restart an entry; in watch mode a service is replaced once its new process is ready."
    )

    @OptionGroup var locator: Locator
    @Argument(help: "The entry, as named in fuge.yml.") var entry: String

    func run() throws { try locator.ask("restart", entry) }
}

struct Logs: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print an entry's output since the launcher started, or one trace's lines of every entry.",
        discussion: """
            With --trace <id> (the trace_id=… of any service's log line), every entry's lines of that \
            trace, merged in time order: one calculation across the webapp, adderservice, auditservice \
            and the eventservice. It reads <state>/<entry>.log, so it also works after the launcher stopped.
            """
    )

    @OptionGroup var locator: Locator
    @Argument(help: "The entry, as named in fuge.yml (not with --trace).") var entry: String?

    @Flag(name: .shortAndLong, help: "Keep printing what it adds, until Ctrl-C.")
    var follow = false

    @Option(help: "Only the lines matching this regular expression.")
    var grep: String?

    @Option(help: "Only the lines of this trace (its 32-digit id), from every entry, in time order.")
    var trace: String?

    func validate() throws {
        switch (entry, trace) {
        case (nil, nil): throw ValidationError("name an entry, or give --trace <id>")
        case (_?, _?): throw ValidationError("--trace reads every entry's lines: name no entry")
        case (nil, _?) where follow: throw ValidationError("--trace prints what the logs hold; -f follows one entry")
        default: break
        }
    }

    func run() throws {
        do {
            if let trace {
                try TraceLog.run(stateDirectory: locator.stateDirectory, traceID: trace, grep: grep)
            } else if let entry {
                try LogTail.run(stateDirectory: locator.stateDirectory, entry: entry, follow: follow, grep: grep)
            }
        } catch {
            FileHandle.standardError.write(Data("localenv: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}
