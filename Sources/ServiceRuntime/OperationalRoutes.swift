import NIOCore
import NIOHTTP1
import Prometheus

/// `/healthz` (the process answers), `/readyz` (its dependencies answer) and `/metrics`: all the
/// admin port serves, and nothing else does (docs/design.md, "The service table").
struct OperationalRoutes: Routes {
    let checks: [ReadinessCheck]
    let limit: Duration

    struct Status: Encodable {
        let status: String
        var error: String?
        var checks: [String: String]?
    }

    func route(_ request: Request) -> Routing {
        guard request.segments.count == 1 else { return .notFound }
        switch request.segments[0] {
        case "healthz": return .get(request, .now("/healthz") { _ in Self.healthy })
        case "readyz": return .get(request, .task("/readyz") { [checks, limit] _ in await Self.readiness(checks, limit) })
        case "metrics": return .get(request, .now("/metrics") { _ in Self.metrics() })
        default: return .notFound
        }
    }

    private static let healthy = Response.json(raw: #"{"status":"ok"}"#)

    private static func metrics() -> Response {
        Response(
            status: .ok, headers: ["content-type": "text/plain; version=0.0.4; charset=utf-8"],
            body: ByteBuffer(bytes: Observability.registry.emitToBuffer())
        )
    }

    private static func readiness(_ checks: [ReadinessCheck], _ limit: Duration) async -> Response {
        let failures = await ReadinessCheck.failures(of: checks, limit: limit)
        var results = Dictionary(uniqueKeysWithValues: checks.map { ($0.name, "ok") })
        results.merge(failures) { _, failure in failure }
        guard failures.isEmpty else {
            let summary = failures.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
            return Response.json(Status(status: "not ready", error: "not ready: \(summary)", checks: results), status: .serviceUnavailable)
        }
        return Response.json(Status(status: "ready", checks: results))
    }
}
