import Hummingbird
import NIOCore
import Prometheus

/// `/healthz` (the process answers), `/readyz` (its dependencies answer) and `/metrics`.
struct OperationalRoutes: Sendable {
    let checks: [ReadinessCheck]
    let limit: Duration

    struct Status: Encodable {
        let status: String
        var error: String?
        var checks: [String: String]?
    }

    func add<Context: RequestContext>(to router: Router<Context>) {
        router.get("/healthz") { _, _ in Response.json(Status(status: "ok")) }
        router.get("/readyz") { _, _ in await readiness() }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: Observability.registry.emitToBuffer()))
            )
        }
    }

    private func readiness() async -> Response {
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
