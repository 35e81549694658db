import NIOCore
import NIOHTTP1
import ServiceRuntime

/// Renders the pages as HTML responses; every value in them is escaped (`HTMLWriter`).
struct PageRenderer: Sendable {
    /// Pages without per-request data, rendered once: `GET /` and `GET /add` are the busiest pages.
    private let indexHTML: ByteBuffer
    private let emptyAddHTML: ByteBuffer

    init() {
        indexHTML = Self.render(IndexPage())
        emptyAddHTML = Self.render(AddPage())
    }

    func index() -> Response { Self.html(indexHTML) }

    func add(_ page: AddPage, status: HTTPResponseStatus = .ok) -> Response {
        if page.first.isEmpty, page.second.isEmpty, page.result == nil, page.error == nil, status == .ok {
            return Self.html(emptyAddHTML)
        }
        return Self.html(Self.render(page), status: status)
    }

    func audit(_ page: AuditPage, status: HTTPResponseStatus = .ok) -> Response {
        Self.html(Self.render(page), status: status)
    }

    func error(_ page: ErrorPage, status: HTTPResponseStatus) -> Response {
        Self.html(Self.render(page), status: status)
    }

    private static func render(_ page: some SitePage) -> ByteBuffer {
        var html = HTMLWriter()
        SiteLayout.write(page, to: &html)
        return html.buffer
    }

    private static func html(_ body: ByteBuffer, status: HTTPResponseStatus = .ok) -> Response {
        Response(status: status, headers: htmlHeaders, body: body)
    }
}

private let htmlHeaders: HTTPHeaders = ["content-type": "text/html; charset=utf-8", "cache-control": "no-store"]
