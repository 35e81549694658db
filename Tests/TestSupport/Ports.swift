import Foundation
import ProcessSupervision

#if canImport(Glibc)
import Glibc
#endif

/// Loopback ports for servers started by tests.
public enum Ports {
    /// A port that was free a moment ago, for a server a test starts. Each call returns a
    /// different port within the process, so parallel tests do not collide.
    ///
    /// It lies below the kernel's ephemeral range: a port the kernel chose for a probe socket
    /// bound to port 0 went back to it on close, and it could give that port to the next
    /// in-process listener bound to port 0 (a test's own HTTP server) before the test's server
    /// started. That server then failed to bind while the other listener passed its readiness
    /// check (a Redis test read "HTTP/1.1 …").
    public static func free() -> Int {
        let range = 10_000..<ephemeralRangeStart()
        while true {
            let port = Int.random(in: range)
            guard isBindable(port, type: SOCK_STREAM), isBindable(port, type: SOCK_DGRAM) else { continue }
            let isNew = handedOut.withLock { $0.insert(port).inserted }
            if isNew { return port }
        }
    }

    /// True when something accepts TCP connections on 127.0.0.1:`port`.
    public static func isListening(_ port: Int, host: String = "127.0.0.1") -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in.loopback(port: port, host: host)
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
    }

    private static let handedOut = Locked<Set<Int>>([])

    /// The first port the kernel hands to sockets bound to port 0 and to outgoing connections
    /// (`net.ipv4.ip_local_port_range`; 32768 by default).
    private static func ephemeralRangeStart() -> Int {
        let text = try? String(contentsOfFile: "/proc/sys/net/ipv4/ip_local_port_range", encoding: .utf8)
        let first = text?.split(whereSeparator: \.isWhitespace).first.flatMap { Int($0) }
        return max(first ?? 32768, 10_001)
    }

    /// Whether a socket of `type` (TCP, or UDP for dnsmasq) can bind 127.0.0.1:`port` right now.
    private static func isBindable(_ port: Int, type: __socket_type) -> Bool {
        let fd = socket(AF_INET, Int32(type.rawValue), 0)
        precondition(fd >= 0, "socket() failed: \(errno)")
        defer { close(fd) }
        var address = sockaddr_in.loopback(port: port)
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}

extension sockaddr_in {
    static func loopback(port: Int, host: String = "127.0.0.1") -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        return address
    }
}
