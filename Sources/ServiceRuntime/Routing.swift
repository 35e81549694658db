import NIOHTTP1

/// A service's routes: a function from a request to what answers it, usually a `switch` over
/// `request.segments` and `request.method`.
public protocol Routes: Sendable {
    func route(_ request: Request) -> Routing
}

/// Where a request goes.
public enum Routing: Sendable {
    case endpoint(Endpoint)
    /// A known path with another method: 405 with this `Allow` header.
    case methodNotAllowed(allow: String)
    case notFound

    /// `endpoint` for GET and HEAD (HEAD answers as GET without the body), 405 otherwise.
    public static func get(_ request: Request, _ endpoint: @autoclosure () -> Endpoint) -> Routing {
        request.method == .GET || request.method == .HEAD ? .endpoint(endpoint()) : .methodNotAllowed(allow: "GET, HEAD")
    }

    /// `endpoint` for POST, 405 otherwise.
    public static func post(_ request: Request, _ endpoint: @autoclosure () -> Endpoint) -> Routing {
        request.method == .POST ? .endpoint(endpoint()) : .methodNotAllowed(allow: "POST")
    }
}

/// A route's handler and its name in the metrics (`http_route`, e.g. `/add/:first/:second`).
public struct Endpoint: Sendable {
    public let route: String
    let handler: Handler

    enum Handler: Sendable {
        case now(@Sendable (Request) throws -> Response)
        case task(@Sendable (Request) async throws -> Response)
    }

    /// Answered on the event loop, for handlers that do no I/O and never block. They run
    /// without `ServiceContext.current` (nothing to hand a trace to); `request.logger` carries
    /// the request's trace ids.
    public static func now(_ route: String, _ handler: @escaping @Sendable (Request) throws -> Response) -> Endpoint {
        Endpoint(route: route, handler: .now(handler))
    }

    /// Answered by a task, for handlers that wait on other services or databases; inside the
    /// request's server span (`ServiceContext.current`) when tracing is on.
    public static func task(_ route: String, _ handler: @escaping @Sendable (Request) async throws -> Response) -> Endpoint {
        Endpoint(route: route, handler: .task(handler))
    }
}

/// No routes: what a service without a port of its own (the eventservice) has; its admin port
/// still serves /healthz, /readyz and /metrics.
public struct NoRoutes: Routes {
    public init() {}
    public func route(_ request: Request) -> Routing { .notFound }
}
