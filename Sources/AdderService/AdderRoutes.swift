import Hummingbird
import NIOCore
import ServiceRuntime

/// `GET /add/{first}/{second}` → `{"result": N}`; anything else under /add → 400.
public enum AdderRoutes {
    public static func add(to router: Router<BasicRequestContext>) {
        router.get("/add/:first/:second") { _, context in
            let first = context.parameters.get("first") ?? ""
            let second = context.parameters.get("second") ?? ""
            do {
                return result(try Addition.add(first: first, second: second))
            } catch {
                throw APIError(.badRequest, String(describing: error))
            }
        }
        // Missing or extra segments (`/add/2`, `/add//3`, `/add/1/2/3`) are bad input, not a missing page.
        for shape in ["/add", "/add/:first", "/add/:first/:second/**"] {
            router.get(RouterPath(shape)) { _, _ -> Response in
                throw APIError(.badRequest, "expected /add/{first}/{second} with two integers")
            }
        }
    }

    /// `{"result":N}` written directly: an integer needs no escaping, and this is the hot path.
    private static func result(_ sum: Int64) -> Response {
        var buffer = ByteBuffer()
        buffer.writeString("{\"result\":\(sum)}")
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }
}

/// The adderservice: the runtime's router plus the /add route.
public func makeAdderApplication(runtime: ServiceRuntime) -> some ApplicationProtocol {
    let router = runtime.makeRouter()
    AdderRoutes.add(to: router)
    return runtime.makeApplication(router: router)
}
