import Logging
import NIOHTTP1
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

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
    /// The service's label when its logger is a plain `LogLineHandler` (no metadata, no
    /// provider): then the line is written here directly. Decided once, not per request.
    private let plainLineLabel: String?

    init(metrics: RequestMetrics, logger: Logger) {
        self.metrics = metrics
        self.logger = logger
        if let handler = logger.handler as? LogLineHandler, handler.metadata.isEmpty, handler.metadataProvider == nil {
            plainLineLabel = handler.label
        } else {
            plainLineLabel = nil
        }
    }

    /// Durations stop when the response is handed to the channel, before it is written: every
    /// micro response is one small buffer.
    func record(method: HTTPMethod, path: Substring, route: String, status: Int, id: String, since start: ContinuousClock.Instant) {
        let elapsed = start.duration(to: .now)
        metrics.series(route: route, method: method, status: status).record(elapsed)
        guard logger.logLevel <= .info else { return }
        if let label = plainLineLabel {
            // The same line LogLineHandler would write, without the metadata dictionary it
            // would be handed and sort: a fifth of a small request's instructions otherwise.
            var line = LogLine()
            line.timestampField()
            line.field("level", "info")
            line.field("service", label)
            line.field("msg", "request")
            line.field(Self.idKey, id)
            line.field("method", method.rawValue)
            line.field("ms", Self.milliseconds(elapsed))
            line.field("path", String(path))
            line.field("status", integer: status)
            line.emit(to: STDOUT_FILENO)
            return
        }
        logger.info(
            "request",
            metadata: [
                Self.idKey: .string(id),
                "method": .string(method.rawValue),
                "path": .string(String(path)),
                "status": .stringConvertible(status),
                "ms": .string(Self.milliseconds(elapsed)),
            ]
        )
    }

    /// "0.052": milliseconds with microsecond precision, without Double's costly description.
    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let micros = max(0, seconds * 1_000_000 + attoseconds / 1_000_000_000_000)
        let fraction = String(micros % 1000)
        return "\(micros / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}

/// Request ids: a random per-process prefix and a counter, unique within the process's life and
/// across its restarts, without a random draw per request.
enum RequestID {
    private static let prefix: String = {
        let value = UInt64.random(in: 0...UInt64.max)
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }()
    private static let counter = Atomic<UInt64>(0)

    static func next() -> String {
        let number = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return prefix + String(number, radix: 16)
    }
}
