import NIOCore
import NIOHTTP1
import Platform

/// One HTTP response. The runtime adds `Content-Length` and `Connection`.
public struct Response: Sendable {
    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: ByteBuffer

    public init(status: HTTPResponseStatus = .ok, headers: HTTPHeaders = [:], body: ByteBuffer = ByteBuffer()) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON response from any Encodable value.
    public static func json(_ value: some Encodable, status: HTTPResponseStatus = .ok) -> Response {
        // Encoding our own plain value types cannot fail; fall back to a fixed body if it ever does.
        let data = (try? JSONEncoder().encode(value)) ?? Data(#"{"error":"response encoding failed"}"#.utf8)
        return Response(status: status, headers: jsonHeaders, body: ByteBuffer(bytes: data))
    }

    /// A JSON body already written, e.g. `{"result":5}`.
    public static func json(raw: String, status: HTTPResponseStatus = .ok) -> Response {
        Response(status: status, headers: jsonHeaders, body: ByteBuffer(string: raw))
    }

    /// A plain-text response.
    public static func text(_ text: String, status: HTTPResponseStatus = .ok) -> Response {
        Response(status: status, headers: ["content-type": "text/plain; charset=utf-8"], body: ByteBuffer(string: text))
    }

    static let jsonHeaders: HTTPHeaders = ["content-type": "application/json; charset=utf-8"]
}
