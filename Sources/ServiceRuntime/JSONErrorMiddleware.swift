import Hummingbird
import Logging

/// Turns every error a handler throws into the contract's `{"error": …}` body, so a JSON service
/// never answers with HTML or a stack trace. Unexpected errors become a 500 naming the request id,
/// and their details go to the log only.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            throw error
        } catch let error as any HTTPResponseError {
            throw APIError(error.status, Self.message(for: error))
        } catch {
            context.logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            throw APIError(.internalServerError, "internal error (request id \(context.id))")
        }
    }

    /// Hummingbird's own errors (no route, body too large, bad JSON) carry a message or only a status.
    private static func message(for error: any HTTPResponseError) -> String {
        if let error = error as? HTTPError, let message = error.body, !message.isEmpty { return message }
        switch error.status {
        case .notFound: return "not found"
        case .contentTooLarge: return "request body too large"
        default: return error.status.reasonPhrase.lowercased()
        }
    }
}
