import Foundation
import ProcessSupervision

#if canImport(Glibc)
import Glibc
#endif

/// Loopback ports for servers started by tests.
public enum Ports {
    /// A port that was free a moment ago: the kernel picks it for a socket bound to port 0.
    /// Each call returns a different port within the process, so parallel tests do not collide.
    public static func free() -> Int {
        while true {
            let port = kernelChosenPort()
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

    private static func kernelChosenPort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        precondition(fd >= 0, "socket() failed: \(errno)")
        defer { close(fd) }
        var address = sockaddr_in.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                precondition(bind(fd, $0, length) == 0, "bind() failed: \(errno)")
                precondition(getsockname(fd, $0, &length) == 0, "getsockname() failed: \(errno)")
            }
        }
        return Int(UInt16(bigEndian: address.sin_port))
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
