import Discovery
import Foundation
import Logging
import ProcessSupervision
import TestSupport

/// Shared set-up for the tests against a real dnsmasq.
enum DNSFixtures {
    static let namespace = "micro"
    static let suffix = "svc.cluster.local"

    /// `_main._tcp.<service>.micro.svc.cluster.local`, the name the resolver asks for.
    static func srvName(_ service: String, port: String = "main") -> String {
        "_\(port)._tcp.\(service).\(namespace).\(suffix)"
    }

    /// One SRV record per address, each with its own target name (like pods behind a headless Service).
    static func records(service: String, addresses: [String], port: Int = 8080) -> [SRVRecord] {
        addresses.enumerated().map { index, address in
            SRVRecord(name: srvName(service), target: "\(service)-\(index).\(namespace).\(suffix)", port: port, address: address)
        }
    }

    /// A resolver asking only the dnsmasq on 127.0.0.1:`port` (direct mode).
    static func resolver(
        port: Int, host: String = "127.0.0.1", options: ResolverOptions = .init(timeoutSeconds: 1, attempts: 1), logger: Logger? = nil
    ) -> ServiceResolver {
        var quiet = Logger(label: "discovery-test")
        quiet.logLevel = .critical
        return ServiceResolver(config: DiscoveryConfig(mode: .direct(host: host, port: port)), logger: logger ?? quiet, options: options)
    }

    /// dnsmasq logging every query it receives, so tests can count what reached DNS.
    static func loggingDNSServer(records: [SRVRecord], ttl: Int, port: Int = Ports.free()) async throws -> ServerProcess {
        try await dnsmasq(port: port, records: records, ttl: ttl, extra: ["--log-queries"])
    }

    /// dnsmasq with DNSServer's flags plus `extra` ones.
    static func dnsmasq(port: Int, records: [SRVRecord] = [], ttl: Int = 5, extra: [String]) async throws -> ServerProcess {
        let arguments = DNSServer.arguments(records: records, ttl: ttl, localDomain: suffix, port: port, listen: "127.0.0.1")
        return try await ServerProcess(
            name: "dnsmasq-\(port)", executable: try TestPaths.tool("dnsmasq"), arguments: arguments + extra, port: port)
    }

    /// How many queries of `type` for `name` the server has logged: waits until at least
    /// `expected` appear (dnsmasq writes its log a moment after answering), then a little longer
    /// so that extra queries are counted too.
    static func queries(_ server: ServerProcess, type: String, name: String, expected: Int) async -> Int {
        func count() -> Int { server.log().components(separatedBy: "query[\(type)] \(name) ").count - 1 }
        for _ in 0..<100 where count() < expected {
            try? await Task.sleep(for: .milliseconds(20))
        }
        try? await Task.sleep(for: .milliseconds(150))
        return count()
    }
}

/// A log handler keeping "level message metadata" lines, for tests that check what was logged.
struct RecordingLogHandler: LogHandler {
    let lines: Locked<[String]>
    var logLevel: Logger.Level = .debug
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).map { "\($0.key)=\($0.value)" }.sorted().joined(separator: " ")
        lines.withLock { $0.append("\(event.level) \(event.message) \(fields)") }
    }
}
