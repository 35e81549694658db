import Foundation
import ProcessSupervision

#if canImport(Glibc)
import Glibc
#endif

/// One operation asked of a running `rehearse up`, and its answer: JSON, one line each way.
public struct ControlRequest: Codable, Sendable {
    public var command: String
    public var arguments: [String]
    public init(command: String, arguments: [String]) {
        self.command = command
        self.arguments = arguments
    }
}

public struct ControlReply: Codable, Sendable {
    public var output: String
    public var exitCode: Int32
    public init(output: String, exitCode: Int32) {
        self.output = output
        self.exitCode = exitCode
    }
}

/// The Unix socket `rehearse up` listens on for the other subcommands. Hand-written on blocking
/// sockets in threads of their own (a few requests a minute do not need an event loop); each
/// connection waits for the cluster's answer, which for `run job` can take a while.
public final class ControlServer: Sendable {
    private let descriptor: Int32
    public let path: String

    public static func start(path: String, handler: @escaping @Sendable (ControlRequest) async -> ControlReply) throws -> ControlServer {
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RehearsalError("socket() failed") }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        guard UnixAddress.with(path, { bind(fd, $0, $1) }) == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw RehearsalError("cannot listen on \(path): \(String(cString: strerror(errno)))")
        }
        let server = ControlServer(descriptor: fd, path: path)
        let thread = Thread {
            while true {
                let client = accept(fd, nil, nil)
                if client < 0 {
                    if errno == EINTR { continue }
                    return
                }
                _ = fcntl(client, F_SETFD, FD_CLOEXEC)
                Thread { serve(client, handler: handler) }.start()
            }
        }
        thread.name = "control-socket"
        thread.start()
        return server
    }

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    public func stop() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        close(descriptor)
        unlink(path)
    }

    private static func serve(_ client: Int32, handler: @escaping @Sendable (ControlRequest) async -> ControlReply) {
        defer { close(client) }
        guard let line = SocketIO.readAll(client, untilNewline: true),
              let request = try? JSONDecoder().decode(ControlRequest.self, from: Data(line.utf8))
        else { return }
        let reply = Locked<ControlReply?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let answer = await handler(request)
            reply.withLock { $0 = answer }
            done.signal()
        }
        done.wait()
        guard let answer = reply.withLock({ $0 }), let data = try? JSONEncoder().encode(answer) else { return }
        SocketIO.writeAll(client, Array(data) + [UInt8(ascii: "\n")])
    }
}

/// The other side: one request, one reply.
public enum ControlClient {
    public static func send(_ request: ControlRequest, path: String) throws -> ControlReply {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw RehearsalError("socket() failed") }
        defer { close(fd) }
        guard UnixAddress.with(path, { connect(fd, $0, $1) }) == 0 else {
            throw RehearsalError("no rehearsal is running (cannot connect to \(path)): start one with `rehearse up`")
        }
        SocketIO.writeAll(fd, Array(try JSONEncoder().encode(request)) + [UInt8(ascii: "\n")])
        guard let text = SocketIO.readAll(fd, untilNewline: false),
              let reply = try? JSONDecoder().decode(ControlReply.self, from: Data(text.utf8))
        else { throw RehearsalError("the rehearsal closed the connection without an answer") }
        return reply
    }
}

enum UnixAddress {
    static func with(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> Int32) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8.prefix(107)) + [0]
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }
}

enum SocketIO {
    static func readAll(_ fd: Int32, untilNewline: Bool) -> String? {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while bytes.count < 64 << 20 {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += buffer[..<count]
            if untilNewline, bytes.contains(UInt8(ascii: "\n")) { break }
        }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
        var rest = bytes[...]
        while !rest.isEmpty {
            let written = rest.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            rest = rest.dropFirst(written)
        }
    }
}
