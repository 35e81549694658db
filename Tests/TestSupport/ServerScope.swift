import ProcessSupervision

/// The servers started during one test, stopped when the test ends, whether it returned or
/// threw, each exit awaited. A `defer` cannot await, and a stop that blocks holds one of Swift's
/// cooperative threads (there is one per core) for as long as a service drains: the tests
/// running beside it then miss their latency bounds. Every `ServerProcess` joins the scope of
/// the test that starts it; a suite gets one scope per test with `@Suite(.stopsServers)`.
final class ServerScope: Sendable {
    @TaskLocal static var current: ServerScope?

    private let servers = Locked<[ServerProcess]>([])

    func add(_ server: ServerProcess) {
        servers.withLock { $0.append(server) }
    }

    /// Last started, first stopped: a service goes before the databases and DNS it uses.
    func stopAll() async {
        for server in servers.withLock({ $0 }).reversed() { await server.stop() }
    }
}
