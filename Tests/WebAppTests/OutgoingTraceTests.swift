import Contracts
import Discovery
import Logging
import RedisAdapter
import ServiceClient
import ServiceLifecycle
import ServiceTracing
import Synchronization
import TestSupport
import Testing
import Tracing

@testable import WebApp

/// The webapp's calls to adderservice and auditservice as client spans of the page's span, their
/// context sent as `traceparent`; a record waiting in the audit outbox carries its page's span.
@Suite(.stopsServers) struct OutgoingTraceTests {
    static let sum = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n{\"result\":5}"
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let pageSpanID = "00f067aa0ba902b7"

    func withExportingTracer(_ body: (MicroTracer, OTLPReceiver) async throws -> Void) async throws {
        try await TestSupport.withExportingTracer(service: "webapp", body)
    }

    @Test func aCallIsAClientSpanOfTheCurrentSpanAndSendsItsContext() async throws {
        try await withExportingTracer { tracer, receiver in
            try await ScriptedServer.with(reply: Self.sum) { server in
                let pool = ServiceConnectionPool()
                let selector = ListedTargets(service: "adderservice") { [server.target] }
                let adder = AdderClient(client: ServiceHTTPClient(service: "adderservice", http: pool, selector: selector, tracer: tracer))
                let page = tracer.startSpan("POST /add/calculate", context: .topLevel, ofKind: .server)
                let outcome = try await ServiceContext.$current.withValue(page.context) { try await adder.add(2, 3) }
                page.end()
                #expect(outcome == .sum(5))
                try await pool.shutdown()

                #expect(await eventually { receiver.spans.count == 2 })
                let pageSpan = try #require(receiver.spans.first { $0.kind == 2 })
                let call = try #require(receiver.spans.first { $0.kind == 3 })
                #expect(call.parentSpanID == pageSpan.spanID)
                #expect(call.traceID == pageSpan.traceID)
                #expect(call.name == "GET /add/:first/:second")
                #expect(call.attributes["url.template"] == "/add/:first/:second")
                #expect(call.attributes["http.response.status_code"] == "200")
                #expect(call.attributes["server.port"] == String(server.target.port))
                #expect(!call.attributes.values.contains { $0.contains("/add/2/3") }, "the span names the route, never the path")
                let sent = server.state.received.withLock { $0 }.lowercased()
                #expect(sent.contains("\r\ntraceparent: 00-\(call.traceID)-\(call.spanID)-01\r\n"), "\(sent)")
            }
        }
    }

    /// The outbox entry keeps the page's `traceparent`; its delivery is a consumer span under
    /// it, and the batch append that carried it a client span under that.
    @Test func aRecordDeliveredFromTheOutboxContinuesItsPagesTrace() async throws {
        let redis = try await RedisServer.start()
        try await withExportingTracer { tracer, receiver in
            try await Harness.with { harness in
                let outbox = Harness.outbox(redisPort: redis.port)
                _ = try await outbox.prepare()
                let page = "00-\(Self.traceID)-\(Self.pageSpanID)-01"
                _ = try await outbox.add(AuditAppend(id: "traced-1", calc: "2+3", result: 5).json, traceparent: page)
                _ = try await outbox.add(AuditAppend(id: "untraced-1", calc: "1+1", result: 2).json)
                let audit = AuditClient(
                    client: ServiceHTTPClient(
                        service: "auditservice", http: harness.connections,
                        selector: ListedTargets(service: "auditservice") { [harness.auditTarget] },
                        tracer: tracer
                    ))
                let delivery = AuditDelivery(
                    outbox: outbox, audit: audit, settings: Harness.quickDelivery, logger: Logger(label: "webapp"), tracer: tracer)
                let group = ServiceGroup(services: [delivery], logger: Logger(label: "webapp"))
                try await withThrowingTaskGroup { tasks in
                    tasks.addTask { try await group.run() }
                    #expect(await eventually(timeout: .seconds(10)) { harness.audit.stored.count == 2 && receiver.spans.count == 3 })
                    await group.triggerGracefulShutdown()
                    try await tasks.waitForAll()
                }
                let traced = receiver.spans(ofTrace: Self.traceID)
                let consumer = try #require(traced.first { $0.kind == 5 })
                let append = try #require(traced.first { $0.kind == 3 })
                #expect(consumer.parentSpanID == Self.pageSpanID)
                #expect(consumer.name == "deliver audit record")
                #expect(append.parentSpanID == consumer.spanID)
                #expect(append.name == "POST /append/batch")
                #expect(consumer.attributes["messaging.batch.message_count"] == "2")
                // The record without a traceparent is delivered in a trace of its own, in the
                // same request.
                #expect(traced.count == 2)
                #expect(receiver.spans.filter { $0.kind == 5 }.map(\.parentSpanID).sorted() == ["", Self.pageSpanID])
            }
        }
    }

    /// A `traceparent` field no valid one could be is not loaded from Redis, and a malformed
    /// one gives the delivery a trace of its own.
    @Test func anOversizedTraceparentStaysInRedis() async throws {
        let redis = try await RedisServer.start()
        let outbox = Harness.outbox(redisPort: redis.port)
        _ = try await outbox.prepare()
        let client = RedisClient(endpoint: { .init(host: "127.0.0.1", port: redis.port) }, logger: Logger(label: "test"))
        let record = AuditAppend(id: "x-1", calc: "1+1", result: 2).json
        _ = try await client.command(["XADD", outbox.keys.stream, "*", "record", record, "traceparent", String(repeating: "0", count: 65)])
        _ = try await outbox.add(record, traceparent: "00-\(Self.traceID)-\(Self.pageSpanID)-01")
        let batch = try await outbox.read(consumer: "c", cursor: "0-0", now: 0)
        #expect(batch.entries.map(\.traceparent) == [nil, "00-\(Self.traceID)-\(Self.pageSpanID)-01"])
    }

    /// Without a tracer a call sends no trace headers at all.
    @Test func noTracerNoHeader() async throws {
        try await ScriptedServer.with(reply: Self.sum) { server in
            let pool = ServiceConnectionPool()
            let adder = AdderClient(
                client: ServiceHTTPClient(
                    service: "adderservice", http: pool, selector: ListedTargets(service: "adderservice") { [server.target] }
                ))
            #expect(try await adder.add(2, 3) == .sum(5))
            #expect(!server.state.received.withLock { $0 }.lowercased().contains("traceparent"))
            try await pool.shutdown()
        }
    }
}
