import Logging
import NIOCore
import NIOHTTP1
import ServiceTracing

/// What every connection of one server shares: the routes, how errors look, the body limit and
/// the telemetry.
struct ServerContext: Sendable {
    let routes: any Routes
    let errors: ErrorResponder
    let maxBodySize: Int
    let telemetry: RequestTelemetry
    let logger: Logger
    /// nil: tracing is off, and no request makes a span.
    var tracer: MicroTracer? = nil

    /// The answer to a thrown error: APIError's status and message; anything else is a 500 whose
    /// details go to the log only, under the request's id.
    func response(for error: any Error, request: Request) -> Response {
        if let error = error as? APIError {
            return errors(ErrorDescription(status: error.status, message: error.message, requestID: nil))
        }
        request.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
        return errors(
            ErrorDescription(status: .internalServerError, message: "internal error (request id \(request.id))", requestID: request.id)
        )
    }

    /// The answer to a request the runtime refuses before any route sees it (4xx).
    func refusal(_ status: HTTPResponseStatus, _ message: String) -> Response {
        errors(ErrorDescription(status: status, message: message, requestID: nil))
    }
}
