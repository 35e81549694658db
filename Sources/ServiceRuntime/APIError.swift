#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import HTTPTypes
import Hummingbird
import NIOCore

/// An error a JSON service answers with: `{"error": "<message>"}` and the status.
public struct APIError: HTTPResponseError, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let message: String

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.code) \(message)" }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response.json(["error": message], status: status)
    }
}

extension Response {
    /// A JSON response from any Encodable value.
    public static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        // Encoding our own plain value types cannot fail; fall back to a fixed body if it ever does.
        let data = (try? JSONEncoder().encode(value)) ?? Data(#"{"error":"response encoding failed"}"#.utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
