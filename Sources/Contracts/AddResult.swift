/// adderservice's `GET /add/{first}/{second}`: the path, and the body of its 200 answer,
/// `{"result": 5}`, as adderservice writes it and the webapp reads it.
public struct AddResult: Codable, Sendable, Equatable {
    public let result: Int64

    public init(result: Int64) { self.result = result }

    public static func path(first: Int64, second: Int64) -> String { "/add/\(first)/\(second)" }

    /// The path's pattern, as adderservice's metrics and both sides' spans name it.
    public static let route = "/add/:first/:second"

    /// The body written directly, without an encoder: an integer needs no escaping, and this is
    /// adderservice's whole answer on its hot path.
    public var json: String { "{\"result\":\(result)}" }
}
