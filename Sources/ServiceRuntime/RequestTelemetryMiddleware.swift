import Hummingbird
import Prometheus
import Logging

/// The request log line and the request metrics, for every request, in one middleware: each
/// middleware layer costs an async frame per request, and both need the same clock and status.
///
/// The log line is `msg=request method=… path=… status=… ms=…` with the request id from the
/// context's logger. Metrics: `http_server_requests_total` and `http_server_request_duration_seconds`
/// per route, method and status, and `http_server_active_requests` (RequestMetrics).
struct RequestTelemetryMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: RequestMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        metrics.active.increment()
        defer { metrics.active.decrement() }
        do {
            let response = try await next(request, context)
            finish(request, context, status: response.status.code, since: start)
            return response
        } catch {
            finish(request, context, status: (error as? any HTTPResponseError)?.status.code ?? 500, since: start)
            throw error
        }
    }

    /// Durations stop when the response is handed to the server, before its body is written:
    /// every micro response is a small buffer, and a post-write hook would cost a closure per request.
    private func finish(_ request: Request, _ context: Context, status: Int, since start: ContinuousClock.Instant) {
        let elapsed = start.duration(to: .now)
        let route = context.endpointPath ?? (status == 404 ? "NotFound" : "Unknown")
        metrics.series(route: route, method: request.method, status: status).record(elapsed)
        context.logger.info(
            "request",
            metadata: [
                "method": .string(request.method.rawValue),
                "path": .string(request.uri.path),
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
