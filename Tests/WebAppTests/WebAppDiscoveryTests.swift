import Discovery
import Foundation
import Logging
import NIOHTTP1
import Synchronization
import TestSupport
import Testing

@testable import WebApp

/// The add page finding adderservice through real DNS: dnsmasq serving SRV and A records.
@Suite(.stopsServers) struct WebAppDiscoveryTests {
    static let adderSRV = "_main._tcp.adderservice.micro.svc.cluster.local"

    static func resolver(_ dns: ServerProcess) -> ServiceResolver {
        ServiceResolver(config: DiscoveryConfig(mode: .direct(host: "127.0.0.1", port: dns.port)), logger: Logger(label: "dns-test"))
    }

    @Test func calculationsReachAdderserviceThroughDNSAndFailOverPastADeadTarget() async throws {
        try await Harness.with { harness in
            let dns = try await DNSServer.start(records: [
                SRVRecord(name: Self.adderSRV, target: "adder-dead.micro.svc.cluster.local", port: Ports.free()),
                SRVRecord(name: Self.adderSRV, target: "adder-live.micro.svc.cluster.local", port: harness.adderServer.port),
            ])
            let balancer = ServiceBalancer(resolver: Self.resolver(dns), service: .adderservice)
            try await harness.makeApp(adderSelector: balancer).app.test { client in
                for round in 1...4 {
                    let response = try await client.submitAdd(first: "\(round)", second: "10")
                    #expect(response.status == .ok)
                    #expect(response.text.contains("= <strong>\(round + 10)</strong>"))
                }
            }
            #expect(harness.adder.calls.load(ordering: .relaxed) == 4)
        }
    }

    @Test func readinessFollowsTheDNSRecord() async throws {
        try await Harness.with { harness in
            let dns = try await DNSServer.start(records: [
                SRVRecord(name: Self.adderSRV, target: "adder.micro.svc.cluster.local", port: harness.adderServer.port)
            ])
            let empty = try await DNSServer.start(records: [])
            for (server, expected) in [(dns, HTTPResponseStatus.ok), (empty, .serviceUnavailable)] {
                let targets = WebAppTargets.discovered(by: Self.resolver(server))
                let app = WebApp.buildApplication(runtime: Harness.runtime, targets: targets, eventSink: MemoryEventSink(), outbox: nil)
                try await app.test { _, admin in
                    let ready = try await admin.get("/readyz")
                    #expect(ready.status == expected)
                }
            }
        }
    }
}
