import Logging
import NIOHTTP1
import Platform

/// The request log line and the request metrics, recorded once per answered request.
///
/// The log line is `msg=request hb.request.id=… method=… ms=… path=… status=…` (the id key kept
/// from the Hummingbird days: log queries use it). Metrics: `http_server_requests_total` and
/// `http_server_request_duration_seconds` per route, method and status, and
/// `http_server_active_requests` (RequestMetrics).
struct RequestTelemetry: Sendable {
    static let idKey = "hb.request.id"

    let metrics: RequestMetrics
    let logger: Logger
    /// `level=info service=… msg=request hb.request.id=<the ids' prefix>`, when the logger is a
    /// plain `LogLineHandler` (no metadata, no provider): then every request line is this, the
    /// time and a few fields, written here directly. Decided once, not per request.
    private let plainLinePrefix: [UInt8]?

    init(metrics: RequestMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
        if let handler = logger.handler as? LogLineHandler, handler.metadata.isEmpty, handler.metadataProvider == nil {
            var prefix = LogLine()
            prefix.field("level", "info")
            prefix.field("service", handler.label)
            prefix.field("msg", "request")
            prefix.field(Self.idKey, RequestID.prefix)
            plainLinePrefix = prefix.bytes
        } else {
            plainLinePrefix = nil
        }
    }

    /// Durations stop when the response is handed to the channel, before it is written: every
    /// micro response is one small buffer. `last` is the caller's cache of the series it used
    /// last (`RequestMetrics.series`).
    func record(
        method: HTTPMethod, path: Substring, route: String, status: Int, id: RequestID, since start: ContinuousClock.Instant,
        last: inout RequestMetrics.LastSeries?
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
            id.appendCounter(to: &line)
            line.field("method", method.rawValue)
            line.field("ms", milliseconds: elapsed)
            line.field("path", path)
            line.field("status", integer: status)
            line.emit(to: STDOUT_FILENO)
            return
        }
        logger.info(
            "request",
            metadata: [
                Self.idKey: .string(id.description),
                "method": .string(method.rawValue),
                "path": .string(String(path)),
                "status": .stringConvertible(status),
                "ms": .string(Self.milliseconds(elapsed)),
            ]
        )
    }

    /// "0.052": milliseconds with microsecond precision, without Double's costly description.
    static func milliseconds(_ duration: Duration) -> String {
        var line = LogLine()
        line.appendMilliseconds(duration)
        return String(decoding: line.bytes, as: UTF8.self)
    }
}
