/// The body of every JSON service's error answer, `{"error": "<message>"}`, with a 4xx or 5xx
/// status: written by ServiceRuntime, read by the webapp from adderservice and auditservice.
public struct ErrorBody: Codable, Sendable, Equatable {
    public let error: String

    public init(error: String) { self.error = error }
}
