import Discovery
import NIOCore
import NIOHTTP1
import ServiceClient
import ServiceTracing
import Tracing

/// The service could not give an answer: unreachable, timed out, or failing (5xx, garbled reply).
/// Pages turn it into "unavailable" (503); the message is for logs, never for visitors.
struct ServiceUnavailable: Error, CustomStringConvertible {
    let service: String
    let reason: String
    var description: String { "\(service) unavailable: \(reason)" }
}

/// HTTP calls to one service over the shared keep-alive connections, to the target the selector
/// picks. Every call has a deadline, so a hung service cannot hold a page. With a tracer, each
/// attempt is a client span (a child of the task's current span) whose context goes out as
/// `traceparent`.
struct ServiceHTTPClient: Sendable {
    let service: String
    let http: ServiceConnectionPool
    let selector: any TargetSelector
    let timeout: TimeAmount
    let tracer: MicroTracer?

    init(
        service: String, http: ServiceConnectionPool, selector: any TargetSelector, timeout: TimeAmount = .seconds(3),
        tracer: MicroTracer? = nil
    ) {
        self.service = service
        self.http = http
        self.selector = selector
        self.timeout = timeout
        self.tracer = tracer
    }

    private static let acceptJSON: HTTPHeaders = ["accept": "application/json"]
    private static let sendJSON: HTTPHeaders = ["accept": "application/json", "content-type": "application/json"]

    /// `route`: the path's pattern, which the span is named by (never the path itself).
    func get(_ path: String, route: String) async throws(ServiceUnavailable) -> ServiceReply {
        try await send(.GET, path, route: route, body: nil)
    }

    func post(_ path: String, route: String, json: ByteBuffer) async throws(ServiceUnavailable) -> ServiceReply {
        try await send(.POST, path, route: route, body: json)
    }

    private func send(_ method: HTTPMethod, _ path: String, route: String, body: ByteBuffer?) async throws(ServiceUnavailable)
        -> ServiceReply
    {
        do {
            return try await selector.withTarget { [self] target in
                let headers = body == nil ? Self.acceptJSON : Self.sendJSON
                guard let tracer else {
                    return try await http.execute(method, path, headers: headers, body: body, to: target, timeout: timeout)
                }
                return try await traced(method, path, route: route, headers: headers, body: body, target: target, tracer: tracer)
            }
        } catch let error as ServiceUnavailable {
            throw error
        } catch {
            throw ServiceUnavailable(service: service, reason: String(describing: error))
        }
    }

    /// One attempt as an HTTP client span (OpenTelemetry's semantic conventions: method,
    /// `url.template`, server address and port, status; `error.type` when it failed).
    private func traced(
        _ method: HTTPMethod, _ path: String, route: String, headers: HTTPHeaders, body: ByteBuffer?, target: ServiceTarget,
        tracer: MicroTracer
    ) async throws -> ServiceReply {
        let span = tracer.startClientSpan(method: method.rawValue, route: route)
        defer { span.end() }
        var headers = headers
        headers.addTraceContext(of: span)
        span.addAttributes { attributes in
            attributes.add("http.request.method", method.rawValue)
            attributes.add("url.template", route)
            attributes.add("server.address", target.host)
            attributes.add("server.port", Int64(target.port))
        }
        do {
            let reply = try await http.execute(method, path, headers: headers, body: body, to: target, timeout: timeout)
            span.setAttribute("http.response.status_code", Int(reply.status.code))
            if reply.status.code >= 400 {
                span.setAttribute("error.type", String(reply.status.code))
                span.setStatus(SpanStatus(code: .error))
            }
            return reply
        } catch {
            span.setAttribute("error.type", String(describing: type(of: error)))
            span.setStatus(SpanStatus(code: .error, message: String(describing: error)))
            throw error
        }
    }
}
