import Contracts
import NIOCore
import NIOHTTP1
import ServiceRuntime

/// `GET /add/{first}/{second}` → `{"result": N}`; any other shape under /add → 400. Answered on
/// the event loop: a sum waits on nothing.
struct AdderRoutes: Routes {
    init() {}

    func route(_ request: Request) -> Routing {
        let segments = request.segments
        guard segments.first == "add" else { return .notFound }
        // Missing or extra segments (`/add/2`, `/add//3`, `/add/1/2/3`) are bad input, not a missing page.
        guard segments.count == 3 else { return .get(request, Self.badShape) }
        return .get(request, Self.sum)
    }

    private static let sum = Route.now(AddResult.route) { request in
        do {
            return result(try Addition.add(first: request.segments[1], second: request.segments[2]))
        } catch {
            throw APIError(.badRequest, String(describing: error))
        }
    }

    private static let badShape = Route.now("/add") { _ in
        throw APIError(.badRequest, "expected /add/{first}/{second} with two integers")
    }

    private static func result(_ sum: Int64) -> Response {
        var buffer = ByteBuffer()
        buffer.writeString(AddResult(result: sum).json)
        return Response(status: .ok, headers: Self.headers, body: buffer)
    }

    private static let headers: HTTPHeaders = ["content-type": "application/json"]
}
