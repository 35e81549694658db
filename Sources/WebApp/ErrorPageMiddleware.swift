import HTTPTypes
import Hummingbird
import Logging
import NIOCore

/// Turns errors into HTML pages in the site's layout. It takes the place of the runtime's JSON
/// errors (`WebAppRoutes.makeRouter`): inside the request log and metrics, which see the finished
/// page, and outside the body limit, whose 413 becomes a page too. Unknown paths get the 404
/// page; anything unexpected the 500 page naming the request id, which is also on the log lines
/// of that request. Internals stay in the log.
struct ErrorPageMiddleware<Context: RequestContext>: RouterMiddleware {
    let pages: PageRenderer

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError where error.status.code < 500 {
            return clientError(error.status, request: request, context: context)
        } catch {
            context.logger.error("page failed", metadata: ["error": "\(String(reflecting: error))"])
            return pages.error(
                ErrorPage(
                    heading: "Something went wrong",
                    message: "The page could not be shown because of an error on our side.",
                    requestID: context.id
                ),
                status: .internalServerError
            )
        }
    }

    private func clientError(_ status: HTTPResponse.Status, request: Request, context: Context) -> Response {
        switch status {
        case .notFound:
            return pages.error(
                ErrorPage(heading: "Page not found", message: "There is no page at this address.", requestID: nil),
                status: .notFound
            )
        case .contentTooLarge:
            return pages.error(
                ErrorPage(heading: "Too much data", message: "The form sent more data than this site accepts.", requestID: nil),
                status: status
            )
        case .methodNotAllowed:
            return pages.error(
                ErrorPage(heading: "Not allowed", message: "This page cannot be used that way.", requestID: nil),
                status: status
            )
        default:
            return pages.error(
                ErrorPage(heading: "Bad request", message: "The request could not be understood.", requestID: context.id),
                status: status
            )
        }
    }
}
