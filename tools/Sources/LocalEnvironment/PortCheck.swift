#if canImport(Glibc)
import Glibc
#endif

/// One port a component will listen on, with the entry it belongs to (for the message when it is taken).
public struct PortUse: Sendable, Equatable, CustomStringConvertible {
    public enum Transport: String, Sendable { case tcp, udp }
    public var entry: String
    public var port: Int
    public var transport: Transport
    /// Where the component binds; services bind 0.0.0.0, the servers 127.0.0.1.
    public var host: String
    /// The port's name in fuge.yml (`main`, `http`, `metrics`), for a service's ports.
    public var name: String? = nil

    public var description: String { "\(transport.rawValue) \(host):\(port) (\(entry))" }
}

/// Checks ports by binding them, as the component will: the only test that matches what the
/// kernel will say at start-up (connecting would miss a socket that is bound but not listening).
public enum PortCheck {
    /// The uses whose port cannot be bound now, in the order given.
    public static func taken(_ uses: [PortUse]) -> [PortUse] {
        uses.filter { !canBind($0) }
    }

    static func canBind(_ use: PortUse) -> Bool {
        let type = use.transport == .tcp ? Int32(SOCK_STREAM.rawValue) : Int32(SOCK_DGRAM.rawValue)
        let fd = socket(AF_INET, type, 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        // TCP: SO_REUSEADDR as the servers set it, so a port left in TIME_WAIT by the last run is
        // free and one something listens on is not. Not for UDP, where it would let two sockets
        // share the port (dnsmasq sets it) and hide the one already there.
        if use.transport == .tcp {
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(use.port).bigEndian)
        guard inet_pton(AF_INET, use.host, &address.sin_addr) == 1 else { return false }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
    }

    /// True when something accepts TCP connections on `host`:`port` (the readiness of the servers).
    public static func isListening(host: String = "127.0.0.1", port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return false }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0
    }
}

extension PortCheck {
    /// A TCP port nothing uses now, as the kernel picks one for a bind to port 0 (a rolling
    /// restart's new process listens there until it takes over the service's own port).
    /// `count` different free ports (nil when the kernel has none).
    static func freePorts(_ count: Int) -> [Int]? {
        var ports: [Int] = []
        for _ in 0..<count * 4 where ports.count < count {
            guard let port = freePort() else { return nil }
            if !ports.contains(port) { ports.append(port) }
        }
        return ports.count == count ? ports : nil
    }

    static func freePort() -> Int? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = INADDR_ANY
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        return bound ? Int(UInt16(bigEndian: address.sin_port)) : nil
    }
}
