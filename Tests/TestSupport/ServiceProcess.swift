/// One of this package's built executables (a service, or the tests' slowservice) on loopback
/// ports, configured as the local environment configures it: `<NAME>_SERVICE_PORT` and
/// `<NAME>_SERVICE_PORT_METRICS` (the admin port), and for the dependencies it finds through DNS,
/// a dnsmasq answering their SRV names (`DNS_HOST`/`DNS_PORT`).
public enum ServiceProcess {
    /// The services that listen on their admin port only.
    static let withoutOwnPort: Set = ["eventservice"]

    /// - Parameters:
    ///   - dependencies: name → port of each server it looks up (`["mongo": mongo.port]`).
    ///   - port: the service's own port (the eventservice has none: its `port` is the admin port).
    ///   - environment: further variables; the process gets no others.
    public static func start(
        _ executable: String, finding dependencies: [String: Int] = [:], port: Int = Ports.free(),
        metricsPort: Int = Ports.free(), logLevel: String? = nil, environment: [String: String] = [:],
        waitForPort: Bool = true
    ) async throws -> ServerProcess {
        var variables = environment
        let ownPort = !withoutOwnPort.contains(executable)
        if ownPort { variables[executable.uppercased() + "_SERVICE_PORT"] = "\(port)" }
        variables[executable.uppercased() + "_SERVICE_PORT_METRICS"] = "\(metricsPort)"
        if let logLevel { variables["LOG_LEVEL"] = logLevel }
        if !dependencies.isEmpty {
            // The dnsmasq is held by the test's scope only: without one it would stop at once.
            guard ServerScope.current != nil else {
                throw TestSupportError("ServiceProcess.start with dependencies needs a test in a `.stopsServers` suite")
            }
            let records = dependencies.sorted { $0.key < $1.key }.map { SRVRecord.main($0.key, port: $0.value) }
            let dns = try await DNSServer.start(records: records)
            variables["DNS_HOST"] = "127.0.0.1"
            variables["DNS_PORT"] = "\(dns.port)"
        }
        return try await ServerProcess(
            name: executable, executable: try TestPaths.builtExecutable(executable), arguments: [],
            port: ownPort ? port : metricsPort, metricsPort: metricsPort, environment: variables, waitForPort: waitForPort
        )
    }
}
