import NIOHTTP1
import ServiceRuntime

/// Every page request is recorded as a page view (`<scheme>://<host><path>`). Recording only
/// appends to the recorder's buffer, so it never slows or fails the page.
enum PageViews {
    static func record(_ request: Request, to recorder: EventRecorder) {
        recorder.record(url: pageURL(request))
    }

    /// The URL the visitor asked for, without the query string. The scheme is `https` only when
    /// a proxy in front says so; the host is the request's Host, cut to a sane length (it is
    /// visitor-supplied text and ends up as a key in eventservice's counts).
    static func pageURL(_ request: Request) -> String {
        let proto = request.headers.first(name: "x-forwarded-proto")?.lowercased()  // set by a TLS-terminating proxy
        let scheme = proto == "https" ? "https" : "http"
        let host = request.headers.first(name: "host") ?? "unknown"
        return "\(scheme)://\(host.prefix(255))\(request.path)"
    }
}
