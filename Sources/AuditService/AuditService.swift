import Discovery
import MongoAdapter
import ServiceLifecycle
import ServiceRuntime

/// Assembles auditservice: the routes, `/readyz` checking MongoDB, and the background connector.
public enum AuditService {
    /// The application the executable runs and the tests drive in-process.
    public static func makeApplication(runtime: ServiceRuntime, database: AuditDatabase) -> ServiceApplication {
        runtime.makeApplication(
            routes: AuditRoutes(database: database),
            readiness: [ReadinessCheck("mongo") { try await database.checkReady() }],
            services: [AuditConnector(database: database)]
        )
    }

    /// Mongo's current addresses from discovery (`_main._tcp.mongo.<namespace>.<suffix>`).
    public static func discoveredMongo(_ resolver: ServiceResolver) -> @Sendable () async throws -> [MongoTarget] {
        {
            try await resolver.resolve(.mongo).map { MongoTarget(host: $0.host, port: $0.port) }
        }
    }
}

/// Runs the database connector beside the HTTP server; stops it on graceful shutdown.
struct AuditConnector: Service {
    let database: AuditDatabase

    func run() async throws {
        await cancelWhenGracefulShutdown { [database] in await database.run() }
    }
}
