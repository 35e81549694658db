import Logging
import NIOCore
import NIOHTTP1
import ServiceRuntime
import ServiceTracing
import TestSupport
import Testing
import Tracing

/// A server span per request: the client's valid `traceparent` continued, a malformed one
/// replaced by a new trace and kept nowhere, the route (never the path) named, the handler
/// running inside the span, and nothing at all with tracing off.
@Suite struct ServerSpanTests {
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let parentID = "00f067aa0ba902b7"
    static let traceparent = "00-\(traceID)-\(parentID)-01"

    /// `GET /item/:name` answers on the event loop with the request's `traceparent` and whether
    /// a `ServiceContext` is bound there (it is not), logging through `request.logger`;
    /// `GET /slow/:name` answers from a task with its current span context; `GET /fail` throws.
    struct TracedRoutes: Routes {
        func route(_ request: Request) -> Routing {
            switch request.segments.first {
            case "item":
                .get(
                    request,
                    .now("/item/:name") { request in
                        request.logger.info("on the loop")
                        return Response(
                            body: ByteBuffer(
                                string: "\(request.traceparent ?? "none") \(ServiceContext.current == nil ? "unbound" : "bound")"))
                    })
            case "slow":
                .get(
                    request,
                    .task("/slow/:name") { request in
                        request.logger.info("inside", metadata: ["handed-on": "\(request.traceparent ?? "none")"])
                        return Response(body: ByteBuffer(string: Self.current()))
                    })
            case "fail": .get(request, .now("/fail") { _ in throw Failure() })
            default: .notFound
            }
        }

        static func current() -> String { ServiceContext.current?.traceContext?.traceparent ?? "none" }
    }

    struct Failure: Error {}

    /// A runtime exporting to a receiver of the test's own; `logs` gets its lines, each with the
    /// current span's ids (the provider ServiceMain installs with tracing on).
    func serve(
        tracing: Bool = true, _ body: @Sendable (TestHTTPClient, OTLPReceiver, CapturedLogs) async throws -> Void
    ) async throws {
        let receiver = try await OTLPReceiver()
        let environment = tracing ? ["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "20"] : [:]
        let config = RuntimeConfig(
            service: .adderservice, port: 0, metricsPort: 0, tracing: try TracingConfig(service: .adderservice, environment: environment)
        )
        let logs = CapturedLogs()
        let runtime = ServiceRuntime(config: config, logger: logs.logger(label: "adderservice", metadataProvider: .traceContext))
        #expect((runtime.tracer != nil) == tracing)
        try await runtime.makeApplication(routes: TracedRoutes()).withRunning { ports in
            try await body(TestHTTPClient(port: try #require(ports.main), adminPort: ports.metrics), receiver, logs)
        }
        await receiver.stop()
    }

    @Test func aValidTraceparentIsContinuedAndTheRouteNamesTheSpan() async throws {
        try await serve { client, receiver, logs in
            let response = try await client.execute("GET", "/item/secret-name?q=1", headers: [("traceparent", Self.traceparent)])
            #expect(await eventually { receiver.spans.count == 1 })
            let span = try #require(receiver.spans.first)
            #expect(span.traceID == Self.traceID)
            #expect(span.parentSpanID == Self.parentID)
            #expect(span.kind == 2)
            #expect(span.name == "GET /item/:name")
            #expect(span.serviceName == "adderservice")
            #expect(span.attributes["http.route"] == "/item/:name")
            #expect(span.attributes["http.request.method"] == "GET")
            #expect(span.attributes["http.response.status_code"] == "200")
            #expect(span.attributes["network.peer.address"] == "127.0.0.1")
            #expect(span.attributes["network.peer.port"].flatMap { Int($0) } != nil)
            #expect(span.statusCode == 0)
            #expect(!"\(span.attributes)".contains("secret-name"), "the path is never in the span")
            // What the handler hands on is the span's own context; its log line has the ids.
            #expect(response.text == "00-\(Self.traceID)-\(span.spanID)-01 unbound")
            let logged = try #require(logs.all.first { $0.message == "on the loop" })
            #expect(logged.metadata["trace_id"] == Self.traceID && logged.metadata["span_id"] == span.spanID)
            let line = try #require(logs.all.first { $0.message == "request" })
            #expect(line.metadata["trace_id"] == Self.traceID)
            #expect(line.metadata["span_id"] == span.spanID)
            #expect(line.metadata["request_id"] != nil)
        }
    }

    @Test func aTaskHandlerRunsInsideTheSpanAndItsLogLinesCarryTheIds() async throws {
        try await serve { client, receiver, logs in
            let response = try await client.execute("GET", "/slow/x", headers: [("traceparent", Self.traceparent)])
            #expect(await eventually { receiver.spans.count == 1 })
            let span = try #require(receiver.spans.first)
            #expect(span.name == "GET /slow/:name")
            let own = "00-\(Self.traceID)-\(span.spanID)-01"
            #expect(response.text == own)
            let inside = try #require(logs.all.first { $0.message == "inside" })
            #expect(inside.metadata["handed-on"] == own, "Request.traceparent is the server span's")
            #expect(inside.metadata["trace_id"] == Self.traceID)
            #expect(inside.metadata["span_id"] == span.spanID)
            #expect(inside.metadata["request_id"] != nil)
        }
    }

    /// W3C Trace Context's invalid forms: each starts a new trace, and none of its text is kept
    /// in the span or the log line.
    @Test(arguments: [
        "01-\(traceID)-\(parentID)-01x",  // a future version with a longer tail it cannot read here
        "ff-\(traceID)-\(parentID)-01",  // version ff is invalid
        "00-\(traceID.dropLast())-\(parentID)-01",  // a short trace id
        "00-\(traceID)-\(parentID)0-01",  // a long span id
        "00-00000000000000000000000000000000-\(parentID)-01",  // all-zero trace id
        "00-\(traceID)-0000000000000000-01",  // all-zero span id
        "00-\(traceID.uppercased())-\(parentID)-01",  // upper-case hex
        "00-4bf92f3577b34da6a3ce929d0e0e47zz-\(parentID)-01",  // not hex
        "00-\(traceID)-\(parentID)-01 trace_id=forged",  // a log line's field smuggled in
    ])
    func aMalformedTraceparentStartsANewTraceAndIsKeptNowhere(header: String) async throws {
        try await serve { client, receiver, logs in
            let response = try await client.execute("GET", "/item/x", headers: [("traceparent", header)])
            #expect(response.status == .ok)
            #expect(await eventually { receiver.spans.count == 1 })
            let span = try #require(receiver.spans.first)
            #expect(span.traceID != Self.traceID)
            #expect(span.parentSpanID == "")
            #expect(!"\(span)".contains(header))
            let line = try #require(logs.all.first { $0.message == "request" })
            #expect(line.metadata["trace_id"] == span.traceID)
            #expect(!line.metadata.values.contains { $0.contains("forged") || $0 == header })
        }
    }

    @Test func unknownPathsAreSpansOfTheirMethodAndErrorsOfTheServer() async throws {
        try await serve { client, receiver, _ in
            #expect(try await client.get("/nothing/here").status == .notFound)
            #expect(try await client.get("/fail").status == .internalServerError)
            #expect(try await client.execute("SOURCE", "/item/x").status == .methodNotAllowed)
            #expect(await eventually { receiver.spans.count == 3 })
            let spans = receiver.spans
            let notFound = try #require(spans.first { $0.attributes["http.response.status_code"] == "404" })
            #expect(notFound.name == "GET")
            #expect(notFound.attributes["http.route"] == nil)
            #expect(notFound.statusCode == 0, "a 4xx is the client's error")
            let failed = try #require(spans.first { $0.attributes["http.response.status_code"] == "500" })
            #expect(failed.name == "GET /fail")
            #expect(failed.statusCode == 2)
            #expect(failed.attributes["error.type"] == "500")
            // A method outside HTTP's own (the parser knows RTSP's, ICE's) never names a span.
            let brewed = try #require(spans.first { $0.attributes["http.response.status_code"] == "405" })
            #expect(brewed.name == "_OTHER")
            #expect(!"\(brewed)".contains("SOURCE"))
        }
    }

    /// The probes and Prometheus ask every few seconds, on the admin port: their requests export nothing.
    @Test func theRuntimesOwnEndpointsExportNoSpans() async throws {
        try await serve { client, receiver, logs in
            for path in ["/healthz", "/readyz", "/metrics"] { #expect(try await client.admin.get(path).status == .ok) }
            _ = try await client.get("/item/x")
            #expect(await eventually { receiver.spans.count >= 1 })
            try await Task.sleep(for: .milliseconds(100))
            #expect(receiver.spans.map(\.name) == ["GET /item/:name"])
            let probe = try #require(logs.all.first { $0.message == "request" && $0.metadata["path"] == "/healthz" })
            #expect(probe.metadata["trace_id"] == nil)
        }
    }

    @Test func tracingOffMeansNoSpanNoContextNoIds() async throws {
        try await serve(tracing: false) { client, receiver, logs in
            let response = try await client.execute("GET", "/slow/x", headers: [("traceparent", Self.traceparent)])
            #expect(response.text == "none")
            let inside = try #require(logs.all.first { $0.message == "inside" })
            #expect(inside.metadata["handed-on"] == "none")
            #expect(inside.metadata["trace_id"] == nil)
            let line = try #require(logs.all.first { $0.message == "request" })
            #expect(line.metadata["trace_id"] == nil && line.metadata["span_id"] == nil)
            try await Task.sleep(for: .milliseconds(100))
            #expect(receiver.requests == 0)
        }
    }
}
