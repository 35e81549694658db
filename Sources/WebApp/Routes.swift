import Logging
import NIOCore
import NIOHTTP1
import ServiceRuntime

/// What the pages talk to. Built from discovery in production (`WebAppAssembly`), from loopback
/// test servers in tests.
public struct WebAppDependencies: Sendable {
    public let adder: AdderClient
    public let audit: AuditClient
    public let auditRecorder: AuditRecorder
    public let events: EventRecorder

    public init(adder: AdderClient, audit: AuditClient, auditRecorder: AuditRecorder, events: EventRecorder) {
        self.adder = adder
        self.audit = audit
        self.auditRecorder = auditRecorder
        self.events = events
    }
}

/// The webapp's routes: the stylesheet and the pages, each page request recorded as an
/// eventservice `record` event. The stylesheet, unknown paths and the runtime's /healthz, /readyz
/// and /metrics are not recorded: they are not pages a person visited.
public struct WebAppRoutes: Routes {
    /// How many calculations the audit page shows.
    public static let auditLimit = 20

    let pages: PageRenderer
    let handlers: PageHandlers
    let events: EventRecorder

    public init(pages: PageRenderer, dependencies: WebAppDependencies) {
        self.pages = pages
        self.handlers = PageHandlers(pages: pages, dependencies: dependencies)
        self.events = dependencies.events
    }

    /// The site's HTML error pages, for `ServiceRuntime.makeApplication(errors:)`.
    public static func errorPages(_ pages: PageRenderer) -> ErrorResponder {
        ErrorPages.responder(pages)
    }

    public func route(_ request: Request) -> Routing {
        let routing: Routing
        switch request.segments {
        case ["stylesheets", "style.css"]:
            return .get(request, .now(Stylesheet.path) { Stylesheet.response(for: $0) })
        case []:
            routing = .get(request, .now("/") { [pages] _ in pages.index() })
        case ["add"]:
            routing = .get(request, .now("/add") { [pages] _ in pages.add(AddPage()) })
        case ["add", "calculate"]:
            switch request.method {
            case .POST: routing = .endpoint(.task("/add/calculate") { [handlers] in try await handlers.calculate($0) })
            case .GET, .HEAD: routing = .endpoint(.now("/add/calculate") { _ in Response(status: .seeOther, headers: ["location": "/add"]) })
            default: return .methodNotAllowed(allow: "GET, HEAD, POST")
            }
        case ["audit"]:
            routing = .get(request, .task("/audit") { [handlers] in await handlers.audit($0) })
        default:
            return .notFound
        }
        if case .endpoint = routing { PageViews.record(request, to: events) }
        return routing
    }
}

/// The handlers with work to do: the calculation and the audit history.
struct PageHandlers: Sendable {
    let pages: PageRenderer
    let dependencies: WebAppDependencies

    func calculate(_ request: Request) async throws -> Response {
        // The runtime has refused too large a body (413 page); a body that is not a form is the visitor's mistake.
        guard let form = AddForm(urlEncoded: String(buffer: request.body)) else {
            return pages.add(AddPage(error: "The form could not be read. Please enter two numbers."), status: .badRequest)
        }
        var page = AddPage(first: form.first ?? "", second: form.second ?? "")
        let first = Operand.parse(page.first)
        let second = Operand.parse(page.second)
        guard case .success(let a) = first, case .success(let b) = second else {
            page.error = Self.operandMessage(first, second)
            return pages.add(page, status: .badRequest)
        }
        do {
            switch try await dependencies.adder.add(a, b) {
            case .sum(let sum):
                await dependencies.auditRecorder.record(AuditRecord(calc: "\(a)+\(b)", calcResult: sum))
                page.result = .init(first: String(a), second: String(b), sum: String(sum))
                return pages.add(page)
            case .rejected(let reason):
                page.error = "These numbers cannot be added: \(reason)."
                return pages.add(page, status: .badRequest)
            }
        } catch {
            request.logger.warning("adderservice unavailable", metadata: ["error": "\(error)"])
            page.error = "The calculator is unavailable right now. Please try again in a moment."
            return pages.add(page, status: .serviceUnavailable)
        }
    }

    func audit(_ request: Request) async -> Response {
        do {
            let entries = try await dependencies.audit.list(limit: WebAppRoutes.auditLimit)
            return pages.audit(AuditPage(entries: entries.map(AuditRow.init)))
        } catch {
            request.logger.warning("auditservice unavailable", metadata: ["error": "\(error)"])
            return pages.audit(AuditPage(unavailable: true), status: .serviceUnavailable)
        }
    }

    private static func operandMessage(
        _ first: Result<Int64, Operand.ProblemError>, _ second: Result<Int64, Operand.ProblemError>
    ) -> String {
        var messages: [String] = []
        if case .failure(let problem) = first { messages.append(problem.message(field: "first")) }
        if case .failure(let problem) = second { messages.append(problem.message(field: "second")) }
        return messages.joined(separator: " ")
    }
}
