import NIOCore
import NIOHTTP1

/// A response as HTTP/1 bytes: status line, the handler's headers, `Content-Length`,
/// `Connection`, the blank line and the body, in one buffer, so the connection makes one write
/// and one flush per response.
///
/// NIO's HTTPResponseEncoder would take the head, the body and the end as three writes through
/// the pipeline and serialize each header field by field; with HTTPServerPipelineHandler that is
/// a large share of a small request (bench/RESULTS.md, "Figures behind the code").
enum ResponseEncoding {
    /// Bodies up to this size are copied behind the head; larger ones follow as a second buffer
    /// in the same flush (one writev) rather than being copied.
    static let copyLimit = 16 * 1024

    struct Framing {
        var version: HTTPVersion
        var keepAlive: Bool
        /// HEAD: the headers of the GET answer, `Content-Length` included, without its body.
        var omitBody: Bool
    }

    /// The head, with the body behind it when it is small; `separateBody` is the body to write
    /// after it otherwise.
    static func encode(
        _ response: Response, _ framing: Framing, allocator: ByteBufferAllocator
    ) -> (head: ByteBuffer, separateBody: ByteBuffer?) {
        let bodySize = response.body.readableBytes
        let sendsBody = !framing.omitBody && bodySize > 0
        let copiesBody = sendsBody && bodySize <= copyLimit
        var buffer = allocator.buffer(capacity: 192 + (copiesBody ? bodySize : 0))
        writeStatusLine(response.status, version: framing.version, to: &buffer)
        for (name, value) in response.headers where !isFraming(name) {
            buffer.writeString(name)
            buffer.writeStaticString(": ")
            buffer.writeString(value)
            buffer.writeStaticString("\r\n")
        }
        if response.status != .notModified && response.status != .noContent && response.status.code >= 200 {
            buffer.writeStaticString("content-length: ")
            buffer.writeString(String(bodySize))
            buffer.writeStaticString("\r\n")
        }
        if !framing.keepAlive {
            buffer.writeStaticString("connection: close\r\n")
        } else if framing.version == .http1_0 {
            buffer.writeStaticString("connection: keep-alive\r\n")
        }
        buffer.writeStaticString("\r\n")
        guard sendsBody else { return (buffer, nil) }
        guard copiesBody else { return (buffer, response.body) }
        var body = response.body
        buffer.writeBuffer(&body)
        return (buffer, nil)
    }

    private static func writeStatusLine(_ status: HTTPResponseStatus, version: HTTPVersion, to buffer: inout ByteBuffer) {
        switch status {
        case .ok:
            buffer.writeStaticString(version == .http1_0 ? "HTTP/1.0 200 OK\r\n" : "HTTP/1.1 200 OK\r\n")
        default:
            buffer.writeStaticString(version == .http1_0 ? "HTTP/1.0 " : "HTTP/1.1 ")
            buffer.writeString(String(status.code))
            buffer.writeStaticString(" ")
            buffer.writeString(status.reasonPhrase)
            buffer.writeStaticString("\r\n")
        }
    }

    /// `Content-Length` and `Connection` are the runtime's: a handler's own would contradict them.
    private static func isFraming(_ name: String) -> Bool {
        let count = name.utf8.count
        guard count == 14 || count == 10 else { return false }
        return name.lowercased() == "content-length" || name.lowercased() == "connection"
    }
}
