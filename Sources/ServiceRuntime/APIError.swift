import Contracts
import NIOHTTP1

/// An error a handler throws to answer with a status and a message: `{"error": "<message>"}` from
/// a JSON service, an error page from the webapp.
public struct APIError: Error, CustomStringConvertible {
    public let status: HTTPResponseStatus
    public let message: String

    public init(_ status: HTTPResponseStatus, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.code) \(message)" }
}

/// What the runtime knows about a request that ends in an error, for the service's error page or body.
public struct ErrorDescription: Sendable {
    public let status: HTTPResponseStatus
    public let message: String
    /// The request's id: set for server errors, which the log explains under that id.
    public let requestID: String?
}

/// Turns an error into the response the service answers with. JSON services use `jsonErrors`.
public typealias ErrorResponder = @Sendable (ErrorDescription) -> Response

/// `{"error": "<message>"}` (`ErrorBody`) with the status.
public let jsonErrors: ErrorResponder = { error in
    Response.json(ErrorBody(error: error.message), status: error.status)
}
