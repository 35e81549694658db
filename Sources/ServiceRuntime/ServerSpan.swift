import NIOCore
import NIOHTTP1
import ServiceTracing
import Tracing

/// A request's server span, after OpenTelemetry's semantic conventions for HTTP servers: method,
/// route (never the path: it holds the visitor's input, and every path would be a span name of
/// its own), status and the peer's address. It continues the client's `traceparent` when that is
/// valid; a malformed one starts a new trace, and nothing of it is kept (`MicroTracer.extract`).
enum ServerSpan {
    static func start(_ head: HTTPRequestHead, peer: SocketAddress?, tracer: MicroTracer) -> MicroSpan {
        var context = ServiceContext.topLevel
        tracer.extract(head.headers, into: &context, using: HTTPHeadersExtractor())
        let method = methodName(head.method)
        let span = tracer.startSpan(method, context: context, ofKind: .server)
        guard span.isRecording else { return span }
        span.updateAttributes { attributes in
            attributes["http.request.method"] = method
            attributes["network.protocol.version"] = head.version.minor == 0 ? "1.0" : "1.1"
            if let peer, let address = peer.ipAddress, let port = peer.port {
                attributes["network.peer.address"] = address
                attributes["network.peer.port"] = port
            }
        }
        return span
    }

    /// The request found its endpoint: the span is named `METHOD route`. Requests that found none
    /// (404, 405, refusals) keep the method alone as their name, as the conventions say.
    static func routed(_ span: MicroSpan, method: HTTPMethod, route: String) {
        guard span.isRecording else { return }
        span.operationName = "\(methodName(method)) \(route)"
        span.attributes["http.route"] = route
    }

    /// A 5xx is the server's error; a 4xx is the client's, and leaves the status unset.
    static func end(_ span: MicroSpan, status: Int) {
        if span.isRecording {
            span.attributes["http.response.status_code"] = status
            if status >= 500 {
                span.attributes["error.type"] = String(status)
                span.setStatus(SpanStatus(code: .error))
            }
        }
        span.end()
    }

    /// A method outside HTTP's registered ones is `_OTHER`: a client-chosen word never names a span.
    static func methodName(_ method: HTTPMethod) -> String {
        if case .RAW = method { return "_OTHER" }
        return method.rawValue
    }
}
