import ArgumentParser
import Foundation
import LocalEnvironment

/// `localenv`: runs micro locally from fuge/fuge.yml — DNS with the cluster's names, Redis,
/// MongoDB and the four services — until Ctrl-C. See README.md, "The local environment".
@main
struct LocalEnv: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "localenv",
        abstract: "Run the whole micro system locally, with the cluster's DNS names, from fuge/fuge.yml.",
        discussion: """
            Starts dnsmasq (the SRV and A records of every entry), redis-server, a MongoDB (mongod, \
            else nx-27017) and every service, waits for each /readyz, prints where to point a \
            browser and curl, streams every log with its name, restarts what crashes, and stops \
            everything on Ctrl-C or SIGTERM.
            """
    )

    @Option(help: "The environment description.")
    var fuge = "fuge/fuge.yml"

    @Option(help: "Folder of the built services (default: each entry's run command, .build/release/<name>).")
    var bin: String?

    @Option(help: "Folder for database data and server files (default: <root>/.build/localenv).")
    var state: String?

    @Option(help: "DNS port instead of fuge.yml's dns_port.")
    var dnsPort: Int?

    @Option(name: .customLong("port"), help: "entry=port instead of the entry's port in fuge.yml (repeatable).")
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

    func validate() throws {
        _ = try parsedPorts()
        guard maxStartFailures >= 1 else { throw ValidationError("--max-start-failures must be at least 1") }
        if let dnsPort, !(1...65535).contains(dnsPort) { throw ValidationError("--dns-port must be 1-65535") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        let options = LaunchOptions(
            fugePath: fuge, binDirectory: bin, stateDirectory: state, dnsPort: dnsPort, portOverrides: try parsedPorts(),
            only: only.map { $0.split(separator: ",").map(String.init) },
            readyTimeout: .milliseconds(Int(readyTimeout * 1000)), stopGrace: .milliseconds(Int(stopGrace * 1000)),
            maxStartFailures: maxStartFailures, environment: environment, color: color
        )
        let status = await Launcher.run(options)
        if status != 0 { throw ExitCode(status) }
    }

    private func parsedPorts() throws -> [String: Int] {
        var result: [String: Int] = [:]
        for text in ports {
            let parts = text.split(separator: "=")
            guard parts.count == 2, let port = Int(parts[1]), (1...65535).contains(port) else {
                throw ValidationError("--port \(text): expected entry=port, e.g. adderservice=18080")
            }
            result[String(parts[0])] = port
        }
        return result
    }
}
