import Discovery
import MongoAdapter
import ServiceRuntime

/// The auditservice: the routes, `/readyz` checking MongoDB, and the background connector.
/// `database` defaults to MongoDB found through discovery; tests pass their own.
public func buildApplication(runtime: ServiceRuntime, database: AuditDatabase? = nil) -> ServiceApplication {
    let database = database ?? AuditDatabase(logger: runtime.logger, locate: discoveredMongo(runtime.resolver))
    return runtime.makeApplication(
        routes: AuditRoutes(database: database),
        readiness: [ReadinessCheck("mongo") { try await database.checkReady() }],
        services: [AuditConnector(database: database)]
    )
}

/// Mongo's current addresses from discovery (`_main._tcp.mongo.<namespace>.<suffix>`).
public func discoveredMongo(_ resolver: ServiceResolver) -> @Sendable () async throws -> [MongoTarget] {
    {
        try await resolver.resolve(.mongo).map { MongoTarget(host: $0.host, port: $0.port) }
    }
}
