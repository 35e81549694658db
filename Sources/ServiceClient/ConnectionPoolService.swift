import ServiceLifecycle

/// Keeps a connection pool alive while the app runs and closes it on graceful shutdown. Listed
/// first among an app's services, so it stops last: the background senders finish their sends
/// before the connections go away.
public struct ConnectionPoolService: Service {
    let pool: ServiceConnectionPool

    public init(pool: ServiceConnectionPool) { self.pool = pool }

    public func run() async throws {
        try? await gracefulShutdown()
        try await pool.shutdown()
    }
}
