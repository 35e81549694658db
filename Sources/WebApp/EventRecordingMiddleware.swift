import HTTPTypes
import Hummingbird
import NIOCore

/// Records every request it sees as a page view (`<scheme>://<host><path>`). Recording only
/// appends to the recorder's buffer, so it never slows or fails the page.
struct EventRecordingMiddleware<Context: RequestContext>: RouterMiddleware {
    let recorder: EventRecorder

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        recorder.record(url: Self.pageURL(request))
        return try await next(request, context)
    }

    /// The URL the visitor asked for, without the query string. The scheme is `https` only when
    /// a proxy in front says so; the host is the request's Host, cut to a sane length (it is
    /// visitor-supplied text and ends up as a key in eventservice's counts).
    static func pageURL(_ request: Request) -> String {
        let proto = forwardedProto.flatMap { request.headers[$0] }?.lowercased()
        let scheme = proto == "https" ? "https" : "http"
        let host = request.head.authority ?? "unknown"
        return "\(scheme)://\(host.prefix(255))\(request.uri.path)"
    }
}

/// Set by a TLS-terminating proxy or ingress in front of the webapp.
private let forwardedProto = HTTPField.Name("X-Forwarded-Proto")
