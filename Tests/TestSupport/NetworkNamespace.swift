import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A Linux network namespace standing in for a pod: its own loopback and, through
/// `/etc/netns/<name>/resolv.conf`, its own resolver configuration. `ip netns exec` bind-mounts
/// that file over /etc/resolv.conf for the command it runs, as a pod gets its own resolv.conf.
/// Needs root (CI runs as root); `create` throws a clear error otherwise.
public final class NetworkNamespace: Sendable {
    public let name: String
    private let ip: String

    /// A fresh namespace `micro-test-<random>` with loopback up and `resolvConf` as its resolv.conf.
    public static func create(resolvConf: String) throws -> NetworkNamespace {
        guard getuid() == 0 else {
            throw TestSupportError("creating a network namespace needs root (ip netns add): run the tests as root")
        }
        let namespace = NetworkNamespace(name: "micro-test-\(UUID().uuidString.prefix(8).lowercased())", ip: try TestPaths.tool("ip"))
        do {
            try namespace.ipCommand(["netns", "add", namespace.name])
            try namespace.ipCommand(["-n", namespace.name, "link", "set", "lo", "up"])
            try FileManager.default.createDirectory(atPath: namespace.etcDirectory, withIntermediateDirectories: true)
            try resolvConf.write(toFile: namespace.etcDirectory + "/resolv.conf", atomically: true, encoding: .utf8)
        } catch {
            namespace.delete()
            throw error
        }
        return namespace
    }

    private init(name: String, ip: String) {
        self.name = name
        self.ip = ip
    }

    /// `/etc/netns/<name>`: files here replace their /etc namesakes inside `ip netns exec`.
    public var etcDirectory: String { "/etc/netns/\(name)" }

    /// The command line that runs `executable` inside the namespace (for `ServerProcess`).
    public func execArguments(_ executable: String, _ arguments: [String]) -> (executable: String, arguments: [String]) {
        (ip, ["netns", "exec", name, executable] + arguments)
    }

    /// Runs a command inside the namespace and waits for it: exit status, stdout, stderr.
    public func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> CommandResult {
        let command = execArguments(executable, arguments)
        return try CommandResult.run(command.executable, command.arguments, environment: environment)
    }

    /// The same, suspending the calling task instead of blocking its thread.
    public func execute(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> CommandResult {
        let command = execArguments(executable, arguments)
        return try await CommandResult.execute(command.executable, command.arguments, environment: environment)
    }

    /// Removes the namespace and its /etc/netns folder. Stop processes running inside first.
    public func delete() {
        _ = try? CommandResult.run(ip, ["netns", "delete", name])
        try? FileManager.default.removeItem(atPath: etcDirectory)
    }

    private func ipCommand(_ arguments: [String]) throws {
        let result = try CommandResult.run(ip, arguments)
        guard result.status == 0 else {
            throw TestSupportError("ip \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.standardError)")
        }
    }
}
