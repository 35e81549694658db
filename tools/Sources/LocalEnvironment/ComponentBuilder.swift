import Discovery
import Foundation
import ProcessSupervision

/// Turns fuge.yml entries into commands: processes run from the build, containers replaced by
/// local servers (Docker is not needed), and dnsmasq for the names.
struct ComponentBuilder {
    let plan: LaunchPlan
    let options: LaunchOptions
    let fugeFolder: String
    let tools: ToolLocator

    init(plan: LaunchPlan, options: LaunchOptions, fugeFolder: String) {
        self.plan = plan
        self.options = options
        self.fugeFolder = fugeFolder
        tools = ToolLocator(environment: options.environment, projectRoot: plan.projectRoot)
    }

    func dns(records: DNSRecords) throws(LauncherError) -> ComponentSpec {
        let host = plan.dnsHost
        return ComponentSpec(
            name: "dns", role: .dns, executable: try tools.require("dnsmasq", for: "the DNS server"),
            arguments: Dnsmasq.arguments(records: records, listen: host, port: plan.dnsPort),
            environment: [:], removedEnvironment: [], workingDirectory: plan.stateDirectory,
            ports: [
                PortUse(entry: "dns", port: plan.dnsPort, transport: .udp, host: host),
                PortUse(entry: "dns", port: plan.dnsPort, transport: .tcp, host: host),
            ],
            readiness: .tcp(host: host, port: plan.dnsPort)
        )
    }

    /// What runs for the entry: one process, or for Prometheus two (`PrometheusStandIn`).
    func components(for entry: FugeFile.Entry, ports: [FugeFile.NamedPort]) throws(LauncherError) -> [ComponentSpec] {
        guard let port = ports.first?.number else {
            throw LauncherError("entry \(entry.name) has no ports: the launcher needs one to check readiness")
        }
        if Self.isPrometheus(entry) {
            return try PrometheusStandIn.components(entry: entry.name, port: port, plan: plan, fugeFolder: fugeFolder, tools: tools)
        }
        switch entry.kind {
        case .process: return [try process(entry, port: port, ports: ports)]
        case .container: return [try container(entry, port: port)]
        }
    }

    /// A container of the image `prom/prometheus` (any registry or tag).
    static func isPrometheus(_ entry: FugeFile.Entry) -> Bool {
        entry.kind == .container && imageName(entry.image ?? "") == "prometheus"
    }

    /// A service: its `run` command (or the binary of that name in `--bin`), with the variables
    /// Fuge would give it — where DNS is and which ports to listen on. Readiness asks `/readyz`
    /// on its admin port (`metrics`), else on its first port.
    private func process(_ entry: FugeFile.Entry, port: Int, ports: [FugeFile.NamedPort]) throws(LauncherError) -> ComponentSpec {
        let folder = LaunchPlan.absolute(entry.path ?? ".", in: fugeFolder)
        let words = (entry.run ?? "").split(separator: " ").map(String.init)
        guard let command = words.first else { throw LauncherError("entry \(entry.name): run is empty") }
        let executable = executablePath(command, folder: folder)
        guard FileManager.default.isExecutableFile(atPath: executable) else {
            throw LauncherError(
                "\(entry.name): \(executable) is not built — run `swift build -c release` (or pass --bin <folder of the built services>)"
            )
        }
        let uses = ports.map { PortUse(entry: entry.name, port: $0.number, transport: .tcp, host: "0.0.0.0", name: $0.name) }
        // fuge.yml's defaults first: what the developer's own environment sets wins over them.
        var environment = plan.fuge.global.environment.filter { options.environment[$0.key] == nil }
        environment.merge(ComponentSpec.portEnvironment(entry: entry.name, ports: uses)) { _, port in port }
        environment[entry.name.uppercased() + "_SERVICE_HOST"] = "127.0.0.1"
        let readinessPort = ports.first { $0.name == MicroService.metricsPortName }?.number ?? port
        if plan.fuge.global.dnsEnabled {
            environment["DNS_HOST"] = plan.dnsHost
            environment["DNS_PORT"] = "\(plan.dnsPort)"
            environment["DNS_NAMESPACE"] = plan.fuge.global.dnsNamespace
            environment["DNS_SUFFIX"] = plan.fuge.global.dnsSuffix
        }
        return ComponentSpec(
            name: entry.name, role: .service, executable: executable, arguments: Array(words.dropFirst()),
            // PORT would only be a fallback, but a developer's stray PORT must not confuse anyone.
            environment: environment, removedEnvironment: ["PORT"], workingDirectory: folder,
            ports: uses, readiness: .http(port: readinessPort, path: "/readyz")
        )
    }

    private func executablePath(_ command: String, folder: String) -> String {
        if let bin = plan.binDirectory { return bin + "/" + (command as NSString).lastPathComponent }
        if command.contains("/") { return LaunchPlan.absolute(command, in: folder) }
        return tools.find(command) ?? command
    }

    /// A container replaced by the local server for its image.
    private func container(_ entry: FugeFile.Entry, port: Int) throws(LauncherError) -> ComponentSpec {
        let data = plan.stateDirectory + "/" + entry.name
        let (executable, arguments): (String, [String])
        switch Self.imageName(entry.image ?? "") {
        case "redis":
            executable = try tools.require("redis-server", for: entry.name)
            // No persistence: event counts start from zero each run, like a fresh container. The
            // project's Redis users, as in the cluster (`LocalCredentials` makes the file at start).
            arguments = [
                "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", data,
                "--protected-mode", "no", "--aclfile", LocalCredentials.aclFile(plan),
            ]
        case "mongo":
            (executable, arguments) = try mongo(entry: entry.name, port: port, data: data)
        default:
            throw LauncherError("entry \(entry.name): no local stand-in for image \(entry.image ?? "") (known: mongo, redis, prometheus)")
        }
        return ComponentSpec(
            name: entry.name, role: .database, executable: executable, arguments: arguments,
            environment: [:], removedEnvironment: [], workingDirectory: data,
            ports: [PortUse(entry: entry.name, port: port, transport: .tcp, host: "127.0.0.1")],
            readiness: .tcp(host: "127.0.0.1", port: port)
        )
    }

    /// A real mongod when one is installed; otherwise nx-27017, the MongoDB-wire-compatible server
    /// on SQLite (no registry here provides mongod). Its pid file goes in the data folder (the
    /// default is a fixed path in /tmp, which would stop a second copy from starting); its own log
    /// file is not needed, since the launcher keeps its output (`ComponentLog`).
    private func mongo(entry: String, port: Int, data: String) throws(LauncherError) -> (String, [String]) {
        if let mongod = tools.find("mongod") {
            return (mongod, ["--port", "\(port)", "--bind_ip", "127.0.0.1", "--dbpath", data, "--quiet"])
        }
        let server = try tools.require("nx-27017", for: entry)
        return (
            server,
            [
                "--data-dir", data, "--host", "127.0.0.1", "-p", "\(port)",
                "--pid-file", data + "/nx-27017.pid", "--log-file", "/dev/null",
            ]
        )
    }

    /// `docker.io/library/mongo:7` → `mongo`.
    static func imageName(_ image: String) -> String {
        let last = image.split(separator: "/").last.map(String.init) ?? image
        return last.split(separator: ":").first.map(String.init) ?? last
    }
}
