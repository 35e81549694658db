import Discovery
import Logging
import MetricsTestKit
import NIOHTTP1
import ServiceLifecycle
import ServiceTracing
import TestSupport
import Testing
import Tracing

/// Spans to a collector of the test's own (`OTLPReceiver`), and what happens to them when the
/// collector refuses, fails or hangs: dropped and counted, and no span's end ever waits.
@Suite struct SpanExportTests {
    /// Runs a backend exporting to `endpoint` for the duration of `body`, then shuts it down.
    func withBackend(
        endpoint: String, queueSize: Int = 2048, batchSize: Int = 512, timeout: Int = 2000,
        _ body: (MicroTracer, TestMetrics) async throws -> Void
    ) async throws {
        let config = try TracingConfig(
            defaultServiceName: "tracetest",
            environment: .init([
                "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint, "OTEL_BSP_SCHEDULE_DELAY": "50", "OTEL_BSP_MAX_QUEUE_SIZE": "\(queueSize)",
                "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "\(batchSize)", "OTEL_EXPORTER_OTLP_TIMEOUT": "\(timeout)",
            ])
        )
        let metrics = TestMetrics()
        let backend = try #require(TracingBackend(config: config, logger: Logger(label: "tracetest"), metrics: metrics))
        let exporter = try #require(backend.exporter)
        let group = ServiceGroup(services: [exporter], logger: Logger(label: "tracetest"))
        try await withThrowingTaskGroup { tasks in
            tasks.addTask { try await group.run() }
            try await body(backend.tracer, metrics)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
    }

    func counted(_ metrics: TestMetrics, reason: String) -> Int64 {
        (try? metrics.expectCounter("tracing_spans_dropped_total", [("reason", reason)]).totalValue) ?? 0
    }

    @Test func spansArriveWithTheirParentsKindsAndAttributes() async throws {
        let receiver = try await OTLPReceiver()
        try await withBackend(endpoint: receiver.endpoint) { tracer, metrics in
            var context = ServiceContext.topLevel
            tracer.extract(["traceparent": PropagationTests.valid] as HTTPHeaders, into: &context, using: HTTPHeadersExtractor())
            let server = tracer.startSpan("GET /add/{first}/{second}", context: context, ofKind: .server)
            server.attributes["http.route"] = "/add/{first}/{second}"
            server.attributes["http.response.status_code"] = 200
            let client = tracer.startSpan("GET", context: server.context, ofKind: .client)
            client.setStatus(SpanStatus(code: .error, message: "timed out"))
            client.end()
            server.end()
            #expect(await eventually { receiver.spans.count == 2 })
            #expect(await eventually { (try? metrics.expectCounter("tracing_spans_exported_total").totalValue) == 2 })
        }
        let spans = receiver.spans(ofTrace: PropagationTests.traceID)
        let server = try #require(spans.first { $0.kind == 2 })
        let client = try #require(spans.first { $0.kind == 3 })
        #expect(server.parentSpanID == PropagationTests.parentID)
        #expect(client.parentSpanID == server.spanID)
        #expect(server.serviceName == "tracetest")
        #expect(server.name == "GET /add/{first}/{second}")
        #expect(server.attributes == ["http.route": "/add/{first}/{second}", "http.response.status_code": "200"])
        #expect(client.statusCode == 2)
        #expect(server.start <= client.start && client.end <= server.end)
        await receiver.stop()
    }

    /// What is still queued when the service stops is sent before it exits.
    @Test func shutdownSendsWhatIsQueued() async throws {
        let receiver = try await OTLPReceiver()
        try await withBackend(endpoint: receiver.endpoint) { tracer, _ in
            for _ in 0..<3 { tracer.startSpan("x", context: .topLevel).end() }
        }
        #expect(receiver.spans.count == 3)
        await receiver.stop()
    }

    @Test func aFailingCollectorsSpansAreDroppedAndCounted() async throws {
        let receiver = try await OTLPReceiver(answer: .status(.serviceUnavailable))
        try await withBackend(endpoint: receiver.endpoint) { tracer, metrics in
            for _ in 0..<5 { tracer.startSpan("x", context: .topLevel).end() }
            #expect(await eventually { counted(metrics, reason: "export_failed") == 5 })
        }
        #expect(receiver.requests >= 1)
        await receiver.stop()
    }

    @Test func anUnreachableCollectorsSpansAreDroppedAndCounted() async throws {
        let receiver = try await OTLPReceiver()
        let endpoint = receiver.endpoint
        await receiver.stop()  // nothing listens there now: every connect is refused
        try await withBackend(endpoint: endpoint) { tracer, metrics in
            for _ in 0..<5 { tracer.startSpan("x", context: .topLevel).end() }
            #expect(await eventually { counted(metrics, reason: "export_failed") == 5 })
        }
    }

    /// A collector that takes the request and never answers: the export times out, its batch is
    /// dropped; meanwhile the queue fills and every further span is dropped at its end, which
    /// returns at once — 20,000 spans end while one export hangs.
    @Test func aHungCollectorHoldsNoSpanEnd() async throws {
        let receiver = try await OTLPReceiver(answer: .never)
        try await withBackend(endpoint: receiver.endpoint, queueSize: 100, batchSize: 10, timeout: 3000) { tracer, metrics in
            tracer.startSpan("first", context: .topLevel).end()
            #expect(await eventually { receiver.requests == 1 })
            for _ in 0..<20_000 { tracer.startSpan("x", context: .topLevel).end() }
            #expect(counted(metrics, reason: "queue_full") == 20_000 - 100)
            #expect(await eventually(timeout: .seconds(5)) { counted(metrics, reason: "export_failed") >= 1 })
        }
        await receiver.stop()
    }
}
