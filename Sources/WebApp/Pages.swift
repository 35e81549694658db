import Contracts
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Mustache
import NIOCore
import NIOHTTP1
import ServiceRuntime

/// What the add page shows: the operands as typed (kept in the form), a result or a message.
struct AddPage: Sendable {
    struct Result: Sendable {
        let first: String
        let second: String
        let sum: String
    }
    var first = ""
    var second = ""
    var result: Result?
    var error: String?
    let navAdd = true
}

/// One row of the audit table.
struct AuditRow: Sendable {
    let time: String
    let calc: String
    let result: String
}

struct AuditPage: Sendable {
    let entries: [AuditRow]
    let unavailable: Bool
    /// Stored, not computed: mustache looks values up through `Mirror`, which sees stored properties only.
    let hasEntries: Bool
    let navAudit = true

    init(entries: [AuditRow] = [], unavailable: Bool = false) {
        self.entries = entries
        self.unavailable = unavailable
        self.hasEntries = !entries.isEmpty
    }
}

struct ErrorPage: Sendable {
    let heading: String
    let message: String
    let requestID: String?
}

/// Renders the pages from the templates, HTML-escaping every value.
struct PageRenderer: Sendable {
    private let library: MustacheLibrary
    /// Pages without per-request data, rendered once: `GET /` and `GET /add` are the busiest pages.
    private let indexHTML: ByteBuffer
    private let emptyAddHTML: ByteBuffer

    init() throws {
        var library = MustacheLibrary()
        try library.register(Templates.layout, named: "layout")
        try library.register(Templates.index, named: "index")
        try library.register(Templates.add, named: "add")
        try library.register(Templates.audit, named: "audit")
        try library.register(Templates.error, named: "error")
        self.library = library
        indexHTML = ByteBuffer(string: Self.render(library, [String: String](), "index"))
        emptyAddHTML = ByteBuffer(string: Self.render(library, AddPage(), "add"))
    }

    func index() -> Response { Self.html(indexHTML) }

    func add(_ page: AddPage, status: HTTPResponseStatus = .ok) -> Response {
        if page.first.isEmpty, page.second.isEmpty, page.result == nil, page.error == nil, status == .ok {
            return Self.html(emptyAddHTML)
        }
        return html(page, "add", status: status)
    }

    func audit(_ page: AuditPage, status: HTTPResponseStatus = .ok) -> Response {
        html(page, "audit", status: status)
    }

    func error(_ page: ErrorPage, status: HTTPResponseStatus) -> Response {
        html(page, "error", status: status)
    }

    private func html(_ object: Any, _ name: String, status: HTTPResponseStatus) -> Response {
        Self.html(ByteBuffer(string: Self.render(library, object, name)), status: status)
    }

    private static func render(_ library: MustacheLibrary, _ object: Any, _ name: String) -> String {
        // Only nil for an unregistered name, which init registers; an empty page would show it.
        library.render(object, withTemplate: name) ?? ""
    }

    private static func html(_ body: ByteBuffer, status: HTTPResponseStatus = .ok) -> Response {
        Response(status: status, headers: htmlHeaders, body: body)
    }
}

private let htmlHeaders: HTTPHeaders = ["content-type": "text/html; charset=utf-8", "cache-control": "no-store"]

extension AuditRow {
    /// `ts` is milliseconds since the epoch; shown as ISO-8601 in UTC (`2026-11-22T04:23:32Z`).
    init(_ entry: AuditList.Entry) {
        let date = Date(timeIntervalSince1970: Double(entry.ts) / 1000)
        self.init(time: date.formatted(.iso8601), calc: entry.calc, result: String(entry.result))
    }
}
