import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The command-line side: one request, one reply, on a blocking socket (a command that sends one
/// request needs no event loop).
public enum ControlClient {
    /// The largest reply read (`rehearse logs` of a chatty pod); the rest is cut.
    static let maximumReplyBytes = 64 << 20

    /// Sends `request` to the server on `path` and waits for its reply: at most `timeout` for
    /// each read when given, otherwise as long as the server takes.
    public static func send(_ request: ControlRequest, path: String, timeout: Duration? = nil) throws(ControlSocketError) -> ControlReply {
        let fd = try connect(path: path)
        defer { close(fd) }
        if let timeout {
            var value = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        }
        // A refused write (a server that closed on an over-long request) still leaves its reply to read.
        var line = (try? JSONEncoder().encode(request)) ?? Data()
        line.append(UInt8(ascii: "\n"))
        _ = sendAll(fd, line)
        let answer = receiveAll(fd)
        guard let end = answer.firstIndex(of: UInt8(ascii: "\n")),
            let reply = try? JSONDecoder().decode(ControlReply.self, from: Data(answer[..<end]))
        else {
            throw .noAnswer(path: path, reason: answer.isEmpty ? "closed without a reply" : "not a reply")
        }
        return reply
    }

    /// True when a server accepts connections on `path`: a socket file alone is not enough.
    public static func isAnswering(path: String) -> Bool {
        guard let fd = try? connect(path: path) else { return false }
        close(fd)
        return true
    }

    /// A connected Unix stream socket, close-on-exec.
    static func connect(path: String) throws(ControlSocketError) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        guard path.utf8.count < MemoryLayout.size(ofValue: address.sun_path) else {
            throw .notRunning(path: path, reason: "path longer than a socket address holds")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw .notRunning(path: path, reason: "socket(): \(String(cString: strerror(errno)))") }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw .notRunning(path: path, reason: reason)
        }
        return fd
    }

    /// MSG_NOSIGNAL: a closed server is an error here, not a SIGPIPE that ends the command.
    private static func sendAll(_ fd: Int32, _ data: Data) -> Bool {
        var rest = data[...]
        while !rest.isEmpty {
            let sent = rest.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }
            guard sent > 0 else { return false }
            rest = rest.dropFirst(sent)
        }
        return true
    }

    /// Up to the reply's newline (JSON escapes any inside it), or until the server closes, a read
    /// times out, or `maximumReplyBytes`.
    private static func receiveAll(_ fd: Int32) -> [UInt8] {
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while answer.count < maximumReplyBytes {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            answer += buffer[..<count]
            if buffer[..<count].contains(UInt8(ascii: "\n")) { break }
        }
        return answer
    }
}
