import Contracts
import Foundation
import NIOHTTP1
import ServiceRuntime
import TestSupport
import Testing

@testable import AuditService

/// The service finding Mongo the way it does in production: SRV + A records from a DNS server.
@Suite("auditservice finds MongoDB through discovery", .stopsServers)
struct AuditDiscoveryTests {
    @Test("_main._tcp.mongo.micro.svc.cluster.local from dnsmasq leads to nx-27017")
    func findsMongoThroughDNS() async throws {
        let mongo = try await MongoServer.start()
        let dns = try await DNSServer.start(records: [.main("mongo", port: mongo.port)])
        let runtime = try ServiceRuntime(
            service: .auditservice,
            environment: [
                "AUDITSERVICE_SERVICE_PORT": "\(Ports.free())", "AUDITSERVICE_SERVICE_PORT_METRICS": "\(Ports.free())",
                "DNS_HOST": "127.0.0.1", "DNS_PORT": "\(dns.port)", "LOG_LEVEL": "error",
            ]
        )
        let database = AuditDatabase(
            timing: AuditHarness.timing, logger: runtime.logger, locate: discoveredMongo(runtime.resolver)
        )
        try await buildApplication(runtime: runtime, database: database).withRunning { ports in
            let client = TestHTTPClient(port: try #require(ports.main), adminPort: ports.metrics)
            try await client.waitUntilReady()
            let response = try await client.append(#"{"calc": "2+3", "calcResult": 5}"#)
            #expect(response.status == .created, "\(response.text)")
            #expect(try await client.list().entries().map(\.calc) == ["2+3"])
        }
    }
}
