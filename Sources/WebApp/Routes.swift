import HTTPTypes
import Hummingbird
import Logging
import NIOCore
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

/// The webapp's router and routes: the HTML error pages, the stylesheet, and the pages (each
/// recorded as an eventservice `record` event). The stylesheet, unknown paths and the runtime's /healthz,
/// /readyz and /metrics are not recorded: they are not pages a person visited.
public enum WebAppRoutes {
    /// How many calculations the audit page shows.
    public static let auditLimit = 20

    /// The runtime's router with the site's HTML error pages where a JSON service has its JSON
    /// errors, so every error a visitor can meet is a page — the runtime's 413 too.
    public static func makeRouter(
        runtime: ServiceRuntime, pages: PageRenderer, readiness: [ReadinessCheck] = []
    ) -> Router<BasicRequestContext> {
        runtime.makeRouter(readiness: readiness, errors: ErrorPageMiddleware(pages: pages))
    }

    public static func add<Context: RequestContext>(
        to router: Router<Context>, pages: PageRenderer, dependencies: WebAppDependencies
    ) {
        router.get(RouterPath(Stylesheet.path)) { request, _ in Stylesheet.response(for: request) }
        let handlers = PageHandlers(pages: pages, dependencies: dependencies)
        router.group()
            .add(middleware: EventRecordingMiddleware(recorder: dependencies.events))
            .get("/") { _, _ in pages.index() }
            .get("/add") { _, _ in pages.add(AddPage()) }
            .post("/add/calculate") { request, context in try await handlers.calculate(request, context) }
            .get("/add/calculate") { _, _ in Response(status: .seeOther, headers: [.location: "/add"]) }
            .get("/audit") { _, context in await handlers.audit(context) }
    }
}

/// The handlers with work to do: the calculation and the audit history.
struct PageHandlers: Sendable {
    let pages: PageRenderer
    let dependencies: WebAppDependencies

    func calculate(_ request: Request, _ context: some RequestContext) async throws -> Response {
        // Too large a body throws (413 page); a body that is not a form is the visitor's mistake.
        let body = try await request.body.collect(upTo: context.maxUploadSize)
        guard let form = AddForm(urlEncoded: String(buffer: body)) else {
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
            context.logger.warning("adderservice unavailable", metadata: ["error": "\(error)"])
            page.error = "The calculator is unavailable right now. Please try again in a moment."
            return pages.add(page, status: .serviceUnavailable)
        }
    }

    func audit(_ context: some RequestContext) async -> Response {
        do {
            let entries = try await dependencies.audit.list(limit: WebAppRoutes.auditLimit)
            return pages.audit(AuditPage(entries: entries.map(AuditRow.init)))
        } catch {
            context.logger.warning("auditservice unavailable", metadata: ["error": "\(error)"])
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
