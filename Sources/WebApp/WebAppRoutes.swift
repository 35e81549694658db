import Logging
import NIOCore
import NIOHTTP1
import ServiceRuntime

/// The webapp's routes: the stylesheet and the pages, each page request recorded as an
/// eventservice `record` event. The stylesheet and unknown paths are not recorded: they are not
/// pages a person visited (/healthz, /readyz and /metrics are on the admin port, not here).
struct WebAppRoutes: Routes {
    /// How many calculations the audit page shows.
    static let auditLimit = 20

    let pages: PageRenderer
    let handlers: PageHandlers
    let events: EventRecorder

    init(pages: PageRenderer, dependencies: WebAppDependencies) {
        self.pages = pages
        self.handlers = PageHandlers(pages: pages, dependencies: dependencies)
        self.events = dependencies.events
    }

    static let crossSite = APIError(.forbidden, "This form can only be sent from this site's own page.")

    /// The site's HTML error pages, for `ServiceRuntime.makeApplication(errors:)`.
    static func errorPages(_ pages: PageRenderer) -> ErrorResponder {
        ErrorPages.responder(pages)
    }

    func route(_ request: Request) -> Routing {
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
            case .POST:
                // Refused before it is counted as a page view: another site's page sent it.
                if CrossSiteCheck.isCrossSite(request) { return .endpoint(.now("/add/calculate") { _ in throw Self.crossSite }) }
                routing = .endpoint(.task("/add/calculate") { [handlers] in try await handlers.calculate($0) })
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
