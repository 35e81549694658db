import Foundation
import NIOCore
import NIOHTTP1

/// An HTTP/1 response as a test reads it off the socket.
public struct TestHTTPResponse: Sendable {
    public let version: String
    public let status: HTTPResponseStatus
    public let headers: HTTPHeaders
    public let body: ByteBuffer
    /// Bytes after this response: a pipelined next response, or anything the server should not have sent.
    public let rest: [UInt8]

    public var text: String { String(buffer: body) }

    /// The first value of header `name` (any case).
    public func header(_ name: String) -> String? { headers.first(name: name) }

    /// nil until `bytes` hold a whole head and the `Content-Length` body (none when `bodyExpected`
    /// is false, as for HEAD).
    public static func parse(_ bytes: [UInt8], bodyExpected: Bool = true) -> TestHTTPResponse? {
        let separator: [UInt8] = Array("\r\n\r\n".utf8)
        guard let end = bytes.firstRange(of: separator) else { return nil }
        let lines = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).components(separatedBy: "\r\n")
        let statusParts = lines[0].split(separator: " ", maxSplits: 2)
        guard statusParts.count >= 2, let code = Int(statusParts[1]) else { return nil }
        var headers = HTTPHeaders()
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.add(name: String(line[..<colon]), value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
        }
        let length = bodyExpected ? headers.first(name: "content-length").flatMap { Int($0) } ?? 0 : 0
        guard bytes.count - end.upperBound >= length else { return nil }
        let bodyEnd = end.upperBound + length
        return TestHTTPResponse(
            version: String(statusParts[0]), status: HTTPResponseStatus(statusCode: code), headers: headers,
            body: ByteBuffer(bytes: bytes[end.upperBound..<bodyEnd]), rest: Array(bytes[bodyEnd...])
        )
    }
}

/// A client that sends one request per connection (`Connection: close`) through a real socket.
public struct TestHTTPClient: Sendable {
    public let port: Int
    /// A service's admin port, when the client is for a service.
    public let adminPort: Int?

    public init(port: Int, adminPort: Int? = nil) {
        self.port = port
        self.adminPort = adminPort
    }

    /// A client of the service's admin port (`/healthz`, `/readyz`, `/metrics`); without one,
    /// of port 0, which no connection reaches.
    public var admin: TestHTTPClient { TestHTTPClient(port: adminPort ?? 0) }

    public func execute(
        _ method: String = "GET", _ path: String, headers: [(String, String)] = [], body: [UInt8] = [],
        timeout: Duration = .seconds(10)
    ) async throws -> TestHTTPResponse {
        let connection = try RawConnection(port: port)
        defer { connection.close() }
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nConnection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || method == "POST" { head += "Content-Length: \(body.count)\r\n" }
        try connection.send(Array((head + "\r\n").utf8) + body)
        guard let response = await connection.readResponse(timeout: timeout, bodyExpected: method != "HEAD") else {
            throw SocketError("no response to \(method) \(path) within \(timeout) (receive errno \(connection.lastError))")
        }
        return response
    }

    /// The same request in the shape the in-process tests used with HummingbirdTesting.
    public func execute(uri: String, method: HTTPMethod, headers: HTTPHeaders = [:], body: ByteBuffer? = nil) async throws -> TestHTTPResponse {
        try await execute(
            method.rawValue, uri, headers: headers.map { ($0.name, $0.value) }, body: body.map { Array($0.readableBytesView) } ?? []
        )
    }

    public func get(_ path: String) async throws -> TestHTTPResponse {
        try await execute("GET", path)
    }
}
