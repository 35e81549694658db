import Contracts
import Discovery
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceRuntime
import ServiceTracing
import Synchronization
import TestSupport
import Testing

@testable import WebApp

/// The webapp as built for production (`buildApplication`) on a runtime that traces: a page's
/// server span continues the visitor's `traceparent`, its calls are client spans under it, and
/// its page event carries it to the eventservice.
@Suite struct PageTraceTests {
    static let traceID = "5b8efff798038103d269b633813fc60c"
    static let traceparent = "00-\(traceID)-eee19b7ec3c1b174-01"

    @Test func aCalculationsSpansAndItsPageEventShareTheVisitorsTrace() async throws {
        let receiver = try await OTLPReceiver()
        try await Harness.with { harness in
            let tracing = try TracingConfig(
                service: .webapp, environment: ["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "20"]
            )
            let runtime = ServiceRuntime(
                config: RuntimeConfig(service: .webapp, host: "127.0.0.1", port: 0, metricsPort: 0, tracing: tracing),
                logger: harness.logs.logger(label: "webapp", metadataProvider: .traceContext)
            )
            let targets = WebAppTargets(
                adderservice: ListedTargets(service: "adderservice") { [harness.adderTarget] },
                auditservice: ListedTargets(service: "auditservice") { [harness.auditTarget] },
                findAdderservice: { [harness.adderTarget] }
            )
            let sink = MemoryEventSink()
            let app = buildApplication(runtime: runtime, targets: targets, eventSink: sink, outbox: nil)
            try await app.withRunning { ports in
                let response = try await TestHTTPClient(port: try #require(ports.main)).execute(
                    "POST", "/add/calculate",
                    headers: [("traceparent", Self.traceparent), ("content-type", "application/x-www-form-urlencoded")],
                    body: Array("first=2&second=3".utf8)
                )
                #expect(response.status == .ok)
                #expect(await eventually { receiver.spans.count == 3 && !sink.messages.withLock { $0 }.isEmpty })
            }
            let spans = receiver.spans(ofTrace: Self.traceID)
            #expect(spans.count == 3, "\(receiver.spans)")
            let page = try #require(spans.first { $0.kind == 2 })
            #expect(page.name == "POST /add/calculate")
            #expect(page.parentSpanID == "eee19b7ec3c1b174")
            let calls = spans.filter { $0.kind == 3 }
            #expect(Set(calls.map(\.name)) == ["GET /add/:first/:second", "POST /append"], "\(spans)")
            #expect(calls.allSatisfy { $0.parentSpanID == page.spanID })

            let message = try #require(sink.messages.withLock { $0 }.first)
            struct Record: Decodable { let url: String; let traceparent: String? }
            let record = try JSONDecoder().decode(Record.self, from: Data(message.utf8))
            #expect(record.url == "/add/calculate")
            #expect(record.traceparent == "00-\(Self.traceID)-\(page.spanID)-01")
            // The services called got the calls' own spans as their parents.
            #expect(harness.adder.traceparents.contains { $0.hasPrefix("00-\(Self.traceID)-") && !$0.contains(page.spanID) })
            let line = try #require(harness.logs.all.first { $0.message == "request" && $0.metadata["path"] == "/add/calculate" })
            #expect(line.metadata["trace_id"] == Self.traceID)
        }
        await receiver.stop()
    }

    /// Tracing off: the page event is the message it always was, and the calls send no trace.
    @Test func withoutTracingNothingChanges() async throws {
        try await Harness.with { harness in
            let targets = WebAppTargets(
                adderservice: ListedTargets(service: "adderservice") { [harness.adderTarget] },
                auditservice: ListedTargets(service: "auditservice") { [harness.auditTarget] },
                findAdderservice: { [harness.adderTarget] }
            )
            let sink = MemoryEventSink()
            let app = buildApplication(runtime: harness.runtime, targets: targets, eventSink: sink, outbox: nil)
            try await app.withRunning { ports in
                _ = try await TestHTTPClient(port: try #require(ports.main)).execute(
                    "POST", "/add/calculate",
                    headers: [("traceparent", Self.traceparent), ("content-type", "application/x-www-form-urlencoded")],
                    body: Array("first=2&second=3".utf8)
                )
                #expect(await eventually { !sink.messages.withLock { $0 }.isEmpty })
            }
            let message = try #require(sink.messages.withLock { $0 }.first)
            #expect(!message.contains("traceparent"))
            #expect(harness.adder.traceparents.isEmpty)
        }
    }
}
