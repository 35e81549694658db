import Logging
import NIOCore
import NIOHTTP1
import ServiceRuntime

/// The webapp's routes: the stylesheet and the pages, each page request recorded as an
/// eventservice `record` event. The stylesheet and unknown paths are not recorded: they are not
/// pages a person visited (/healthz, /readyz and /metrics are on the admin port, not here).
struct WebAppRoutes: Routes {
    /// The pages, each declared once: matched by `route(_:)`, and named by it in the metrics
    /// (`http_route`) and in page events, whose keys are therefore these and nothing a client sends.
    static let index: RoutePath = "/"
    static let add: RoutePath = "/add"
    static let calculate: RoutePath = "/add/calculate"
    static let audit: RoutePath = "/audit"
    static let pagePaths = [index, add, calculate, audit]

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
        case Stylesheet.path:
            return .get(request, .now(Stylesheet.path) { Stylesheet.response(for: $0) })
        case Self.index:
            routing = .get(request, .now(Self.index) { [pages] _ in pages.index() })
        case Self.add:
            routing = .get(request, .now(Self.add) { [pages] _ in pages.add(AddPage()) })
        case Self.calculate:
            switch request.method {
            case .POST:
                // Refused before it is counted as a page view: another site's page sent it.
                if CrossSiteCheck.isCrossSite(request) { return .route(.now(Self.calculate) { _ in throw Self.crossSite }) }
                routing = .route(.task(Self.calculate) { [handlers] in try await handlers.calculate($0) })
            case .GET, .HEAD:
                routing = .route(.now(Self.calculate) { _ in Response(status: .seeOther, headers: ["location": Self.add.name]) })
            default: return .methodNotAllowed(allow: "GET, HEAD, POST")
            }
        case Self.audit:
            routing = .get(request, .task(Self.audit) { [handlers] in await handlers.audit($0) })
        default:
            return .notFound
        }
        // A page view, under its route's name: recording only appends to the recorder's buffer,
        // so it never slows or fails the page. A traced page's event carries its span, so the
        // eventservice's apply joins the page's trace.
        if case .route(let route) = routing { events.record(url: route.name, traceparent: request.traceparent) }
        return routing
    }
}
