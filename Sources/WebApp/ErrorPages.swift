import NIOHTTP1
import ServiceRuntime

/// The webapp's answer to every error, in the site's layout, where a JSON service has its JSON
/// errors: unknown paths get the 404 page, the runtime's refusals (413, 405, malformed requests)
/// their pages, anything unexpected the 500 page naming the request id, which is also on the
/// log lines of that request. Internals stay in the log.
enum ErrorPages {
    static func responder(_ pages: PageRenderer) -> ErrorResponder {
        { error in page(for: error, pages: pages) }
    }

    static func page(for error: ErrorDescription, pages: PageRenderer) -> Response {
        let page: ErrorPage
        switch error.status {
        case .notFound:
            page = ErrorPage(heading: "Page not found", message: "There is no page at this address.", requestID: nil)
        case .payloadTooLarge:
            page = ErrorPage(heading: "Too much data", message: "The form sent more data than this site accepts.", requestID: nil)
        case .forbidden:
            page = ErrorPage(heading: "Not allowed", message: error.message, requestID: nil)
        case .methodNotAllowed:
            page = ErrorPage(heading: "Not allowed", message: "This page cannot be used that way.", requestID: nil)
        case let status where status.code >= 500:
            page = ErrorPage(
                heading: "Something went wrong",
                message: "The page could not be shown because of an error on our side.",
                requestID: error.requestID
            )
        default:
            page = ErrorPage(heading: "Bad request", message: "The request could not be understood.", requestID: error.requestID)
        }
        return pages.error(page, status: error.status)
    }
}
