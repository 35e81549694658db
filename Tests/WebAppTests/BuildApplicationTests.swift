import Foundation
import NIOCore
import NIOHTTP1
import ServiceRuntime
import Synchronization
import TestSupport
import Testing

@testable import WebApp

/// The production wiring: the pages on the webapp's port, the runtime's /readyz, /healthz, /metrics
/// on its admin port.
@Suite struct BuildApplicationTests {
    static func app(_ harness: Harness, findAdder: @escaping @Sendable () async throws -> [ServiceTarget]) throws -> ServiceApplication {
        let adder = harness.adderTarget
        let audit = harness.auditTarget
        let targets = WebAppTargets(
            adderservice: ListedTargets(service: "adderservice") { [adder] },
            auditservice: ListedTargets(service: "auditservice") { [audit] },
            findAdderservice: findAdder
        )
        return WebApp.buildApplication(runtime: Harness.runtime, targets: targets, eventSink: MemoryEventSink(), outbox: nil)
    }

    struct LookupFailed: Error {}

    @Test func readyWhenAdderserviceCanBeFoundAndNotOtherwise() async throws {
        try await Harness.with { harness in
            let adder = harness.adderTarget
            try await Self.app(harness) { [adder] }.test { _, admin in
                let ready = try await admin.get("/readyz")
                #expect(ready.status == .ok)
                let healthy = try await admin.get("/healthz")
                #expect(healthy.status == .ok)
            }
            try await Self.app(harness) { throw LookupFailed() }.test { client, admin in
                let response = try await admin.get("/readyz")
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("adderservice"))
                let page = try await client.get("/add")
                #expect(page.status == .ok, "pages still answer")
            }
        }
    }

    @Test func auditRecordsAndEventDropsAreOnMetrics() async throws {
        Observability.bootstrap()  // swift-metrics series reach /metrics only through the process's backend
        try await Harness.with { harness in
            try await Self.app(harness) { [] }.test { client, admin in
                let calculation = try await client.submitAdd(first: "1", second: "2")
                #expect(calculation.status == .ok)
                let metrics = try await admin.get("/metrics")
                #expect(metrics.status == .ok)
                let text = String(buffer: metrics.body)
                #expect(text.contains("webapp_events_dropped_total"))
                #expect(text.contains(#"webapp_audit_records_total{path="direct"}"#), "\(text)")
                #expect(text.contains("webapp_audit_records_refused_total"))
            }
        }
    }
}
