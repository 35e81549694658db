/// The key a page event is counted under: the route path of the page (`/add`, `/audit`, …), so
/// the set of keys in the eventservice's counts is bounded by this list whatever Host, path or
/// query a client sends. A path that is not one of the routes (`WebAppRoutes` records only
/// these) is counted as `other`, never under its own name.
enum PageEventKey {
    static let routes: Set<String> = ["/", "/add", "/add/calculate", "/audit"]
    static let other = "other"

    static func forPath(_ path: some StringProtocol) -> String {
        var path = Substring(path)
        if path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        let key = String(path)
        return routes.contains(key) ? key : other
    }
}
