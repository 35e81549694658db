import HTTPTypes
import Hummingbird
import NIOCore

/// Records every request it sees as a page view of its route (`EventRecorder.record(path:)`).
/// Recording only appends to the recorder's buffer, so it never slows or fails the page.
struct EventRecordingMiddleware<Context: RequestContext>: RouterMiddleware {
    let recorder: EventRecorder

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        recorder.record(path: request.uri.path)
        return try await next(request, context)
    }
}
