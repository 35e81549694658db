import NIOCore
import NIOHTTP1
import ServiceTracing
import Tracing

/// A request's server span, after OpenTelemetry's semantic conventions for HTTP servers: method,
/// route (never the path: it holds the visitor's input, and every path would be a span name of
/// its own), status and the peer's address. It continues the client's `traceparent` when that is
/// valid; a malformed one starts a new trace, and nothing of it is kept (`MicroTracer.extract`).
enum ServerSpan {
    /// The span, without attributes yet: they are set at its end (`end`).
    static func start(_ head: HTTPRequestHead, tracer: MicroTracer) -> MicroSpan {
        tracer.startSpan(methodName(head.method), parent: tracer.parent(of: head.headers, using: HTTPHeadersExtractor()), ofKind: .server)
    }

    /// The request found its endpoint: the span is named `METHOD route`. Requests that found none
    /// (404, 405, refusals) keep the method alone as their name, as the conventions say.
    static func routed(_ span: MicroSpan, method: HTTPMethod, route: String) {
        span.name(method: methodName(method), route: route)
    }

    /// The attributes, then the end: `route` when the request found its endpoint. A 5xx is the
    /// server's error; a 4xx is the client's, and leaves the status unset.
    static func end(_ span: MicroSpan, head: HTTPRequestHead, route: String?, status: Int, peer: Peer?) {
        if span.isRecording {
            span.addAttributes { attributes in
                attributes.add(encoded: methodAttribute(head.method))
                if let route { attributes.add("http.route", route) }
                if status == 200 { attributes.add(encoded: ok) } else { attributes.add("http.response.status_code", Int64(status)) }
                if let peer { attributes.add(encoded: peer.attributes) }
                if status >= 500 { attributes.add("error.type", String(status)) }
            }
            if status >= 500 { span.setStatus(SpanStatus(code: .error)) }
        }
        span.end()
    }

    /// The client's address and port, as span attributes once per connection (`inet_ntop` and
    /// its `sprintf` were ~3,000 instructions a request, the encoding ~1,000).
    struct Peer {
        let attributes: [UInt8]

        init?(_ socket: SocketAddress?) {
            guard let socket, let address = socket.ipAddress, let port = socket.port else { return nil }
            attributes =
                SpanAttributeBytes.encoded("network.peer.address", .string(address))
                + SpanAttributeBytes.encoded("network.peer.port", .int(Int64(port)))
        }
    }

    private static let ok = SpanAttributeBytes.encoded("http.response.status_code", .int(200))
    private static let get = methodAttribute(named: "GET")
    private static let head = methodAttribute(named: "HEAD")
    private static let post = methodAttribute(named: "POST")

    private static func methodAttribute(_ method: HTTPMethod) -> [UInt8] {
        switch method {
        case .GET: get
        case .HEAD: head
        case .POST: post
        default: methodAttribute(named: methodName(method))
        }
    }

    private static func methodAttribute(named name: String) -> [UInt8] {
        SpanAttributeBytes.encoded("http.request.method", .string(name))
    }

    /// A method outside HTTP's registered ones is `_OTHER`: a client-chosen word never names a span.
    static func methodName(_ method: HTTPMethod) -> String {
        if case .RAW = method { return "_OTHER" }
        return method.rawValue
    }
}
