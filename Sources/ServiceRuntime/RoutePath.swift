/// A route's path, declared once: a `switch` over `request.segments` matches it (`~=`), and its
/// text is the route's name — the `http_route` label of its metrics, and whatever else names the
/// route (the webapp's page events). So the list of a service's routes is written in one place.
///
///     static let audit: RoutePath = "/audit"
///     switch request.segments {
///     case Self.audit: return .get(request, .task(Self.audit) { … })
///
/// Literal segments only: a route with parameters (`/add/:first/:second`) matches them itself
/// and passes its pattern as the name.
public struct RoutePath: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// `/add/calculate`; `/` for the root.
    public let name: String
    private let segments: [String]

    public init(_ name: String) {
        self.name = name
        self.segments = name.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
    }

    public init(stringLiteral name: String) { self.init(name) }

    public var description: String { name }

    /// Whether a request's segments are this path's (`Request.segments`: `/` is `[]`).
    public static func ~= (path: RoutePath, segments: [String]) -> Bool { path.segments == segments }
}

extension Route {
    /// `now`, named by its declared path.
    public static func now(_ path: RoutePath, _ handler: @escaping @Sendable (Request) throws -> Response) -> Route {
        now(path.name, handler)
    }

    /// `task`, named by its declared path.
    public static func task(_ path: RoutePath, _ handler: @escaping @Sendable (Request) async throws -> Response) -> Route {
        task(path.name, handler)
    }
}
