import Contracts
import Discovery
import Logging
import ServiceTracing
import TestSupport
import Testing

@testable import EventService
@testable import RedisAdapter

/// A traced page event's apply is a consumer span continuing the page's `traceparent`, and the
/// line the worker logs for it carries the trace's ids; every other record is applied as before.
@Suite(.stopsServers) struct AppliedEventTraceTests {
    static let traceID = "0af7651916cd43dd8448eb211c80319c"
    static let pageSpanID = "b7ad6b7169203331"

    @Test func aTracedEventsApplyJoinsItsPagesTrace() async throws {
        let redis = try await RedisServer.start()
        let logs = CapturedLogs()
        try await withExportingTracer(service: "eventservice") { tracer, receiver in
            let harness = try await WorkerHarness(port: redis.port, startWorker: false)
            let traced = EventQueueContract.recordMessage(
                url: "/add", id: "traced-1", traceparent: "00-\(Self.traceID)-\(Self.pageSpanID)-01")
            let malformed =
                #"{"action":"record","type":"page","url":"/add","id":"bad-1","traceparent":"00-\#(Self.traceID)-0000000000000000-01"}"#
            let notAString = #"{"action":"record","type":"page","url":"/add","id":"odd-1","traceparent":["x"]}"#
            try await harness.push([traced, recordMessage("/add"), malformed, notAString])
            let endpoint: RedisClient.Endpoint = { .init(host: "127.0.0.1", port: redis.port) }
            let worker = EventWorker(
                consumer: RedisClient(endpoint: endpoint, logger: Logger(label: "test")),
                monitor: RedisClient(endpoint: endpoint, logger: Logger(label: "test")),
                logger: logs.logger(label: "eventservice", metadataProvider: .traceContext), tracer: tracer
            )
            let applied = try await worker.round()
            #expect(applied.records == 4, "every record counts, traced or not")
            #expect(try await harness.counts() == ["/add": 4])
            #expect(await eventually { receiver.spans.count == 1 })
            try await Task.sleep(for: .milliseconds(100))
            #expect(receiver.spans.count == 1, "only the valid traceparent makes a span: \(receiver.spans)")
            let span = try #require(receiver.spans.first)
            #expect(span.traceID == Self.traceID)
            #expect(span.parentSpanID == Self.pageSpanID)
            #expect(span.kind == 5)
            #expect(span.name == "apply page event")
            #expect(span.serviceName == "eventservice")
            #expect(span.attributes["messaging.destination.name"] == EventQueueContract.queue)
            #expect(span.attributes["messaging.message.id"] == "traced-1")
            let lines = logs.all.filter { $0.message == "page event applied" }
            #expect(lines.count == 1)
            #expect(lines.first?.metadata["trace_id"] == Self.traceID)
            #expect(lines.first?.metadata["span_id"] == span.spanID)
            #expect(lines.first?.metadata["event_id"] == "traced-1")
        }
    }

    /// Without a tracer a traced event is applied as any other, and nothing is logged for it.
    @Test func withoutATracerTracedEventsAreJustCounted() async throws {
        let redis = try await RedisServer.start()
        let logs = CapturedLogs()
        let harness = try await WorkerHarness(port: redis.port, startWorker: false)
        try await harness.push([
            EventQueueContract.recordMessage(url: "/add", id: "t-1", traceparent: "00-\(Self.traceID)-\(Self.pageSpanID)-01")
        ])
        let endpoint: RedisClient.Endpoint = { .init(host: "127.0.0.1", port: redis.port) }
        let worker = EventWorker(
            consumer: RedisClient(endpoint: endpoint, logger: Logger(label: "test")),
            monitor: RedisClient(endpoint: endpoint, logger: Logger(label: "test")), logger: logs.logger(label: "eventservice")
        )
        #expect(try await worker.round().records == 1)
        #expect(logs.all.filter { $0.message == "page event applied" }.isEmpty)
    }
}
