import NIOHTTP1

/// A service's routes: a function from a request to what answers it, usually a `switch` over
/// `request.segments` and `request.method`.
public protocol Routes: Sendable {
    func route(_ request: Request) -> Routing
}

/// Where a request goes.
public enum Routing: Sendable {
    case route(Route)
    /// A known path with another method: 405 with this `Allow` header.
    case methodNotAllowed(allow: String)
    case notFound

    /// `route` for GET and HEAD (HEAD answers as GET without the body), 405 otherwise.
    public static func get(_ request: Request, _ route: @autoclosure () -> Route) -> Routing {
        request.method == .GET || request.method == .HEAD ? .route(route()) : .methodNotAllowed(allow: "GET, HEAD")
    }

    /// `route` for POST, 405 otherwise.
    public static func post(_ request: Request, _ route: @autoclosure () -> Route) -> Routing {
        request.method == .POST ? .route(route()) : .methodNotAllowed(allow: "POST")
    }
}

/// A route: its handler and its name in the metrics (`http_route`, e.g. `/add/:first/:second`).
/// (Named for what it is here; `Endpoint` elsewhere is an address: `RedisClient.Endpoint`, a pod's
/// in the cluster rehearsal.)
public struct Route: Sendable {
    public let name: String
    let handler: Handler

    enum Handler: Sendable {
        case now(@Sendable (Request) throws -> Response)
        case task(@Sendable (Request) async throws -> Response)
    }

    /// Answered on the event loop, for handlers that do no I/O and never block. They run
    /// without `ServiceContext.current` (nothing to hand a trace to); `request.logger` carries
    /// the request's trace ids.
    public static func now(_ name: String, _ handler: @escaping @Sendable (Request) throws -> Response) -> Route {
        Route(name: name, handler: .now(handler))
    }

    /// Answered by a task, for handlers that wait on other services or databases; inside the
    /// request's server span (`ServiceContext.current`) when tracing is on.
    public static func task(_ name: String, _ handler: @escaping @Sendable (Request) async throws -> Response) -> Route {
        Route(name: name, handler: .task(handler))
    }
}

/// No routes: what a service without a port of its own (the eventservice) has; its admin port
/// still serves /healthz, /readyz and /metrics.
public struct NoRoutes: Routes {
    public init() {}
    public func route(_ request: Request) -> Routing { .notFound }
}
