import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A Linux network namespace standing in for a pod: its own loopback and, through
/// `/etc/netns/<name>/resolv.conf`, its own resolver configuration. `ip netns exec` bind-mounts
/// that file over /etc/resolv.conf for the command it runs, as a pod gets its own resolv.conf.
/// Needs root (CI runs as root); `with` throws a clear error otherwise.
public final class NetworkNamespace: Sendable {
    public let name: String
    private let ip: String

    /// Runs `body` in a fresh namespace `micro-test-<random>` (loopback up, `resolvConf` as its
    /// resolv.conf) and deletes it afterwards, whether `body` returned or threw. Stop what runs
    /// inside before `body` ends.
    public static func with<T>(resolvConf: String, _ body: (NetworkNamespace) async throws -> T) async throws -> T {
        let namespace = try await create(resolvConf: resolvConf)
        do {
            let result = try await body(namespace)
            await namespace.delete()
            return result
        } catch {
            await namespace.delete()
            throw error
        }
    }

    private static func create(resolvConf: String) async throws -> NetworkNamespace {
        guard getuid() == 0 else {
            throw TestSupportError("creating a network namespace needs root (ip netns add): run the tests as root")
        }
        let namespace = NetworkNamespace(name: "micro-test-\(UUID().uuidString.prefix(8).lowercased())", ip: try TestPaths.tool("ip"))
        do {
            try await namespace.ipCommand(["netns", "add", namespace.name])
            try await namespace.ipCommand(["-n", namespace.name, "link", "set", "lo", "up"])
            try FileManager.default.createDirectory(atPath: namespace.etcDirectory, withIntermediateDirectories: true)
            try resolvConf.write(toFile: namespace.etcDirectory + "/resolv.conf", atomically: true, encoding: .utf8)
        } catch {
            await namespace.delete()
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

    /// Runs a command inside the namespace to its end: exit status, stdout, stderr.
    public func execute(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> CommandResult {
        let command = execArguments(executable, arguments)
        return try await CommandResult.execute(command.executable, command.arguments, environment: environment)
    }

    /// Removes the namespace and its /etc/netns folder.
    private func delete() async {
        _ = try? await CommandResult.execute(ip, ["netns", "delete", name])
        try? FileManager.default.removeItem(atPath: etcDirectory)
    }

    private func ipCommand(_ arguments: [String]) async throws {
        let result = try await CommandResult.execute(ip, arguments)
        guard result.status == 0 else {
            throw TestSupportError("ip \(arguments.joined(separator: " ")) failed (\(result.status)): \(result.standardError)")
        }
    }
}
