import ServiceLifecycle

/// Keeps the shared connection pool alive while the app runs and closes it on graceful shutdown.
/// Listed first among the app's services, so it stops last: the background recorders finish
/// their sends before the connections go away.
struct ConnectionPoolService: Service {
    let pool: ServiceConnectionPool

    init(pool: ServiceConnectionPool) { self.pool = pool }

    func run() async throws {
        try? await gracefulShutdown()
        try await pool.shutdown()
    }
}
