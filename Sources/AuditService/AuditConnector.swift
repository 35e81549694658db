import ServiceLifecycle

/// Runs the database connector beside the HTTP server; stops it on graceful shutdown.
struct AuditConnector: Service {
    let database: AuditDatabase

    func run() async throws {
        await cancelWhenGracefulShutdown { [database] in await database.run() }
    }
}
