import Logging
import NIOHTTP1
import Platform
import ServiceTracing
import W3CTraceContext

/// The request log line and the request metrics, recorded once per answered request.
///
/// The log line is `msg=request method=… ms=… path=… request_id=… status=…`, and inside a trace
/// `span_id=…` and `trace_id=…` (the server span's, which also name the request in the trace).
/// Metrics: `http_server_requests_total` and `http_server_request_duration_seconds` per route,
/// method and status, and `http_server_active_requests` (RequestMetrics).
struct RequestTelemetry: Sendable {
    static let idKey = "request_id"

    let metrics: RequestMetrics
    let logger: Logger
    /// `level=info service=… msg=request`, when the logger is a plain `LogLineHandler` (no
    /// metadata; no provider, or only the trace context's, which adds nothing outside a span):
    /// then every request line is this, the time and a few fields, written here directly.
    /// Decided once, not per request.
    private let plainLinePrefix: [UInt8]?
    /// ` request_id=<the ids' prefix>`, which the id's counter follows.
    private let idFieldPrefix: [UInt8]

    init(metrics: RequestMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
        var id = LogLine()
        id.field(Self.idKey, RequestID.prefix)
        idFieldPrefix = id.bytes
        if let handler = logger.handler as? LogLineHandler, handler.metadata.isEmpty,
            handler.metadataProvider == nil || handler.tracesContext
        {
            var prefix = LogLine()
            prefix.field("level", "info")
            prefix.field("service", handler.label)
            prefix.field("msg", "request")
            plainLinePrefix = prefix.bytes
        } else {
            plainLinePrefix = nil
        }
    }

    /// Durations stop when the response is handed to the channel, before it is written: every
    /// micro response is one small buffer. `last` is the caller's cache of the series it used
    /// last (`RequestMetrics.series`); `trace` the request's server span, when it has one.
    func record(
        method: HTTPMethod, path: Substring, route: String, status: Int, id: RequestID, trace: TraceIDs? = nil,
        since start: ContinuousClock.Instant, last: inout RequestMetrics.LastSeries?
    ) {
        let elapsed = start.duration(to: .now)
        metrics.series(route: route, method: method, status: status, last: &last).record(elapsed)
        guard logger.logLevel <= .info else { return }
        if let plainLinePrefix {
            // The same line LogLineHandler would write, without the metadata dictionary it
            // would be handed and sort (bench/RESULTS.md, "Figures behind the code").
            var line = LogLine()
            line.timestampField()
            line.append(fields: plainLinePrefix)
            line.field("method", method.rawValue)
            line.field("ms", milliseconds: elapsed)
            line.field("path", path)
            line.append(fields: idFieldPrefix)
            id.appendCounter(to: &line)
            if let trace { withUnsafeBytes(of: trace.span.bytes) { line.field("span_id", hex: $0) } }
            line.field("status", integer: status)
            if let trace { withUnsafeBytes(of: trace.trace.bytes) { line.field("trace_id", hex: $0) } }
            line.emit(to: STDOUT_FILENO)
            return
        }
        var metadata: Logger.Metadata = [
            Self.idKey: .string(id.description),
            "method": .string(method.rawValue),
            "path": .string(String(path)),
            "status": .stringConvertible(status),
            "ms": .string(Self.milliseconds(elapsed)),
        ]
        if let trace {
            metadata["trace_id"] = .string(trace.trace.description)
            metadata["span_id"] = .string(trace.span.description)
        }
        logger.info("request", metadata: metadata)
    }

    /// "0.052": milliseconds with microsecond precision, without Double's costly description.
    static func milliseconds(_ duration: Duration) -> String {
        var line = LogLine()
        line.appendMilliseconds(duration)
        return String(decoding: line.bytes, as: UTF8.self)
    }
}

/// A span's two ids, for its request's log line: without the rest of its `TraceContext`, whose
/// trace state is an array to retain and release.
struct TraceIDs {
    let trace: TraceID
    let span: SpanID

    init?(_ span: MicroSpan?) {
        guard let span else { return nil }
        (trace, self.span) = span.ids
    }
}
