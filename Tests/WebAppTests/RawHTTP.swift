import Foundation
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Requests written byte for byte on plain sockets, from threads of their own: hostile input
/// (any Host header) that no HTTP client would send, and blocking I/O kept off the cooperative
/// pool the in-process server needs.
enum RawHTTP {
    /// Sends each request on its own connection (`Connection: close`), `connections` at a
    /// time; returns the status of every response (0 when none came).
    static func send(_ requests: [String], port: Int, connections: Int = 8) async -> [Int] {
        let shares = (0..<connections).map { worker in stride(from: worker, to: requests.count, by: connections).map { requests[$0] } }
        return await withTaskGroup(of: [Int].self) { group in
            for share in shares {
                group.addTask { await blocking { share.map { exchange($0, port: port) } } }
            }
            var statuses: [Int] = []
            for await part in group { statuses += part }
            return statuses
        }
    }

    /// One request, one response read to the end; its status code.
    static func exchange(_ request: String, port: Int) -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return 0 }
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else { return 0 }
        var response: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            response += buffer[0..<count]
        }
        let statusLine = String(decoding: response.prefix(32), as: UTF8.self)
        return Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}
