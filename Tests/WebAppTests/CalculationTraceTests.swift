import Foundation
import NIOHTTP1
import TestSupport
import Testing

/// Tracing end to end: one calculation, posted to the built webapp with a known
/// `traceparent`, is one trace at a collector (the test's own OTLP receiver), parent-linked across
/// every process that worked on it — the webapp, adderservice, auditservice (reached through the
/// audit outbox's delivery) and the eventservice — and every service's log lines for it carry its
/// trace id. Real processes: the five services' executables, nx-27017, redis-server, dnsmasq.
@Suite(.stopsServers) struct CalculationTraceTests {
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let clientSpanID = "00f067aa0ba902b7"

    @Test func oneCalculationIsOneTraceAcrossEveryService() async throws {
        let receiver = try await OTLPReceiver()
        let tracing = ["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "50"]
        let mongo = try await MongoServer.start()
        let redis = try await RedisServer.start()
        let adder = try await ServiceProcess.start("adderservice", environment: tracing)
        let audit = try await ServiceProcess.start("auditservice", finding: ["mongo": mongo.port], environment: tracing)
        let events = try await ServiceProcess.start("eventservice", finding: ["redis": redis.port], environment: tracing)
        let webapp = try await ServiceProcess.start(
            "webapp", finding: ["adderservice": adder.port, "auditservice": audit.port, "redis": redis.port], environment: tracing
        )
        let client = TestHTTPClient(port: webapp.port, adminPort: webapp.metricsPort)
        #expect(await eventually(timeout: .seconds(20)) { (try? await client.admin.get("/readyz"))?.status == .ok }, "\(webapp.log())")

        let page = try await client.execute(
            "POST", "/add/calculate",
            headers: [
                ("traceparent", "00-\(Self.traceID)-\(Self.clientSpanID)-01"), ("content-type", "application/x-www-form-urlencoded"),
            ],
            body: Array("first=2&second=3".utf8)
        )
        #expect(page.text.contains("2 + 3 = <strong>5</strong>"), "\(webapp.log())")
        let logs = { [webapp, adder, audit, events].map { $0.log() }.joined(separator: "\n") }
        let complete = await eventually(timeout: .seconds(15)) { receiver.spans(ofTrace: Self.traceID).count >= 7 }
        #expect(complete, "spans: \(receiver.spans)\n\(logs())")

        // The trace, as each span names its parent.
        let spans = receiver.spans(ofTrace: Self.traceID)
        func span(_ service: String, _ name: String, kind: Int, under parent: String) throws -> ReceivedSpan {
            let found = spans.filter { $0.serviceName == service && $0.name == name && $0.kind == kind && $0.parentSpanID == parent }
            #expect(found.count == 1, "\(service) \(name) under \(parent): \(spans)")
            return try #require(found.first)
        }
        let request = try span("webapp", "POST /add/calculate", kind: 2, under: Self.clientSpanID)
        let addCall = try span("webapp", "GET /add/:first/:second", kind: 3, under: request.spanID)
        _ = try span("adderservice", "GET /add/:first/:second", kind: 2, under: addCall.spanID)
        let delivery = try span("webapp", "deliver audit record", kind: 5, under: request.spanID)
        let appendCall = try span("webapp", "POST /append/batch", kind: 3, under: delivery.spanID)
        _ = try span("auditservice", "POST /append/batch", kind: 2, under: appendCall.spanID)
        _ = try span("eventservice", "apply page event", kind: 5, under: request.spanID)
        #expect(spans.count == 7, "\(spans)")

        // Each service's lines for the calculation carry its trace id (as a whole field).
        let field = "trace_id=\(Self.traceID)"
        func lines(_ process: ServerProcess, containing text: String) -> [Substring] {
            process.log().split(separator: "\n").filter { $0.contains(text) }
        }
        #expect(lines(webapp, containing: "path=/add/calculate").allSatisfy { $0.contains(field) }, "\(webapp.log())")
        #expect(lines(adder, containing: "path=/add/2/3").allSatisfy { $0.contains(field) }, "\(adder.log())")
        #expect(!lines(adder, containing: "path=/add/2/3").isEmpty)
        #expect(
            !lines(audit, containing: "path=/append").isEmpty && lines(audit, containing: "path=/append").allSatisfy { $0.contains(field) },
            "\(audit.log())")
        #expect(
            !lines(events, containing: "msg=\"page event applied\"").isEmpty
                && lines(events, containing: "msg=\"page event applied\"").allSatisfy { $0.contains(field) }, "\(events.log())")
        #expect(!lines(webapp, containing: field).isEmpty)
        await receiver.stop()
    }
}
