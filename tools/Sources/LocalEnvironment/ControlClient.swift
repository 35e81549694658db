import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// `localenv ps|start|stop|restart|logs`: one request to the running launcher's control socket.
/// Plain blocking sockets: a command-line client with one request needs no event loop.
public enum ControlClient {
    /// Sends `request` and returns the launcher's answer.
    public static func send(_ request: String, stateDirectory: String) throws(LauncherError) -> ControlReply {
        let path = ControlServer.socketPath(stateDirectory: stateDirectory)
        let fd = try connect(path: path)
        defer { close(fd) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let bytes = Array((request + "\n").utf8)
        guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            throw LauncherError("cannot send to \(path): \(String(cString: strerror(errno)))")
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            answer += buffer[..<count]
        }
        let text = String(decoding: answer, as: UTF8.self)
        guard let newline = text.firstIndex(of: "\n") else {
            throw LauncherError("the launcher at \(path) did not answer")
        }
        var body = String(text[text.index(after: newline)...])
        if body.hasSuffix("\n") { body.removeLast() }
        return ControlReply(ok: text[..<newline] == "ok", text: body)
    }

    /// A connected unix stream socket (close-on-exec), or why not.
    static func connect(path: String) throws(LauncherError) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard path.utf8.count < capacity else { throw LauncherError("socket path too long: \(path)") }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8)
            raw[path.utf8.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw LauncherError("socket(): \(String(cString: strerror(errno)))") }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw LauncherError("no localenv is running with this state folder: nothing answers on \(path) (\(reason))")
        }
        return fd
    }
}
