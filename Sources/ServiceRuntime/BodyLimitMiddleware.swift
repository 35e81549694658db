import Hummingbird

/// Refuses request bodies over `limit` with 413 before a handler sees them. A declared
/// Content-Length is checked at once; a chunked body is read up to the limit (and kept, so the
/// handler can still read it).
struct BodyLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let limit: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap(Int.init) {
            guard length <= limit else { throw HTTPError(.contentTooLarge, message: "request body over \(limit) bytes") }
            return try await next(request, context)
        }
        guard request.headers[.transferEncoding] != nil else { return try await next(request, context) }
        var request = request
        do {
            _ = try await request.collectBody(upTo: limit)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw HTTPError(.contentTooLarge, message: "request body over \(limit) bytes")
        }
        return try await next(request, context)
    }
}
