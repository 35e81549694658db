import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP (or Unix socket) connection to a test server that sends exactly the bytes it is given: for requests no
/// well-behaved client would send (broken framing, half a request line, a half-close) and for
/// reading the server's answer byte for byte. Blocking calls run on their own thread
/// (`blocking`), never on the test's cooperative pool.
public final class RawConnection: @unchecked Sendable {  // the descriptor is used by one test at a time
    private let fd: Int32
    private let lock = NSLock()
    private var isClosed = false
    /// errno of a failed receive, for failure messages.
    public private(set) var lastError: Int32 = 0

    /// `receiveBuffer`, `sendBuffer`: SO_RCVBUF and SO_SNDBUF, set before connecting: a small
    /// receive window is a client that reads slowly or not at all; a small send buffer makes a
    /// flood go at the server's pace rather than into the kernel first.
    public init(port: Int, host: String = "127.0.0.1", receiveBuffer: Int32? = nil, sendBuffer: Int32? = nil) throws {
        fd = try Self.socket(AF_INET, receiveBuffer: receiveBuffer, sendBuffer: sendBuffer)
        var address = sockaddr_in.loopback(port: port, host: host)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        // Interrupted by a signal, the connection still completes: wait until it has.
        if result != 0 && errno == EINTR {
            var pollfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
            _ = poll(&pollfd, 1, 5000)
        }
        guard result == 0 || Self.isConnected(fd) else {
            let code = errno
            Glibc.close(fd)
            throw SocketError("connect to \(host):\(port) failed: errno \(code)")
        }
    }

    /// A connection to the Unix stream socket at `path` (a tool's control socket).
    public init(unixSocket path: String, receiveBuffer: Int32? = nil) throws {
        fd = try Self.socket(AF_UNIX, receiveBuffer: receiveBuffer, sendBuffer: nil)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8.prefix(raw.count - 1))
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard result == 0 else {
            let code = errno
            Glibc.close(fd)
            throw SocketError("connect to \(path) failed: errno \(code)")
        }
    }

    deinit { close() }

    private static func socket(_ family: Int32, receiveBuffer: Int32?, sendBuffer: Int32?) throws -> Int32 {
        let fd = Glibc.socket(family, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError("socket() failed: errno \(errno)") }
        for (option, size) in [(SO_RCVBUF, receiveBuffer), (SO_SNDBUF, sendBuffer)] {
            guard var size else { continue }
            _ = setsockopt(fd, SOL_SOCKET, option, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        return fd
    }

    private static func isConnected(_ fd: Int32) -> Bool {
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        return getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 && error == 0
    }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw SocketError("send failed: errno \(errno)") }
            offset += written
        }
    }

    /// Sends as much of `bytes` as the connection accepts within `limit` without blocking on a
    /// full send buffer, and returns how many bytes that was: a server that stops reading shows
    /// as a stall once the kernel's buffers are full.
    public func send(_ bytes: [UInt8], stoppingAfter limit: Duration) async -> Int {
        await blocking { [self] in
            let deadline = ContinuousClock.now + limit
            var offset = 0
            while offset < bytes.count, ContinuousClock.now < deadline {
                let written = bytes[offset...].withUnsafeBytes {
                    Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
                }
                if written > 0 {
                    offset += written
                } else if written < 0 && (errno == EAGAIN || errno == EINTR) {
                    var pollfd = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&pollfd, 1, 10)
                } else {
                    break
                }
            }
            return offset
        }
    }

    /// Closes the sending side only: the server sees end of input and can still answer.
    public func shutdownWrite() {
        _ = shutdown(fd, Int32(SHUT_WR))
    }

    /// Everything the server sends until it closes the connection or `timeout` passes.
    public func readUntilClosed(timeout: Duration) async -> (bytes: [UInt8], closed: Bool) {
        await blocking { [self] in readUntilClosedNow(timeout: timeout) }
    }

    /// One response (head and `Content-Length` body), or nil when none arrives within `timeout`.
    public func readResponse(timeout: Duration = .seconds(10), bodyExpected: Bool = true) async -> TestHTTPResponse? {
        await blocking { [self] in
            var buffer: [UInt8] = []
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline {
                if let response = TestHTTPResponse.parse(buffer, bodyExpected: bodyExpected) { return response }
                guard let chunk = receive(until: deadline), !chunk.isEmpty else { return nil }
                buffer += chunk
            }
            return nil
        }
    }

    public func close() {
        lock.lock()
        defer { lock.unlock() }
        guard !isClosed else { return }
        isClosed = true
        Glibc.close(fd)
    }

    private func readUntilClosedNow(timeout: Duration) -> (bytes: [UInt8], closed: Bool) {
        var bytes: [UInt8] = []
        let deadline = ContinuousClock.now + timeout
        while let chunk = receive(until: deadline) {
            if chunk.isEmpty { return (bytes, true) }
            bytes += chunk
        }
        return (bytes, false)
    }

    /// The next bytes; empty at end of input (or a reset); nil when `deadline` passes first.
    private func receive(until deadline: ContinuousClock.Instant) -> [UInt8]? {
        var pollfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        while true {
            let left = ContinuousClock.now.duration(to: deadline)
            guard left > .zero else { return nil }
            let millis = Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000)
            let ready = poll(&pollfd, 1, max(1, millis))
            if ready < 0 && errno == EINTR { continue }
            guard ready > 0 else { return nil }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            // A signal (SIGCHLD from a server the test stopped) is not the end of the input.
            if count < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            if count < 0 { lastError = errno }
            return count > 0 ? Array(chunk[..<count]) : []
        }
    }
}

public struct SocketError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Runs blocking work on a thread of its own and awaits its result.
public func blocking<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in
        Thread.detachNewThread { continuation.resume(returning: work()) }
    }
}
