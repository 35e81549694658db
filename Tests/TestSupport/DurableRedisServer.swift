import Foundation

/// `redis-server` that keeps its data across `restart()` and even `kill9()`: an append-only file
/// synced on every write (`fsync: "everysec"`: once a second, as the manifests run it), in the
/// server's own directory. For tests that restart Redis mid-stream and then check that nothing
/// was lost.
public enum DurableRedisServer {
    public static func start(port: Int = Ports.free(), fsync: String = "always") async throws -> ServerProcess {
        let directory = TestPaths.temporaryDirectory(prefix: "redis-durable")
        return try await ServerProcess(
            name: "redis-durable-\(port)", executable: try TestPaths.tool("redis-server"),
            arguments: [
                "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes",
                "--appendfsync", fsync, "--dir", directory, "--protected-mode", "no",
            ],
            port: port
        )
    }
}
