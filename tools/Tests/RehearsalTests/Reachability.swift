import Foundation

@testable import ClusterRehearsal

/// Connection attempts from inside a pod's network namespace (or from the node), made by the
/// host's bash (`/dev/tcp`) and dig, all of one source at once: what the network lets through,
/// whatever the pod's own image holds.
enum Reachability {
    struct Target: Hashable, CustomStringConvertible {
        var address: String
        var port: Int
        var transport: Transport
        var description: String { "\(address):\(port)/\(transport.rawValue)" }
    }

    /// Whether each target answered within `timeout` seconds: a TCP connection was established, or
    /// the DNS server answered over UDP. `namespace` nil: from the node.
    static func reached(from namespace: String?, _ targets: [Target], timeout: Int = 2) async throws -> [Target: Bool] {
        let attempts = targets.map { target in
            let attempt =
                target.transport == .udp
                ? "dig +tries=1 +time=\(timeout) -p \(target.port) @\(target.address) cluster.local SOA >/dev/null 2>&1"
                : "timeout \(timeout) bash -c 'exec 3<>/dev/tcp/\(target.address)/\(target.port)' 2>/dev/null"
            return "(\(attempt); echo \"\(target.address) \(target.port) \(target.transport.rawValue) $?\") &"
        }
        let script = attempts.joined(separator: "\n") + "\nwait\n"
        let command = (namespace.map { ["ip", "netns", "exec", $0] } ?? []) + ["bash", "-c", script]
        let output = try await Command.check(command)
        var result: [Target: Bool] = [:]
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count == 4, let port = Int(fields[1]), let transport = Transport(rawValue: String(fields[2])) else { continue }
            result[Target(address: String(fields[0]), port: port, transport: transport)] = fields[3] == "0"
        }
        return result
    }
}
