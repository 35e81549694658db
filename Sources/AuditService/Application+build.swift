import Discovery
import MongoAdapter
import ServiceRuntime

/// The auditservice: the routes, `/readyz` checking MongoDB found through discovery, and the
/// background connector.
public func buildApplication(runtime: ServiceRuntime) -> ServiceApplication {
    let credentials = runtime.config.credentials.mongo.map {
        // The user lives in the database it may use (the mongo manifest's init script makes it there).
        MongoCredentials(username: $0.username, password: $0.password, authSource: AuditStore.database)
    }
    return buildApplication(
        runtime: runtime,
        database: AuditDatabase(logger: runtime.logger, credentials: credentials, locate: discoveredMongo(runtime.resolver))
    )
}

/// The same with another database (tests: MongoDB on a loopback port, short retry timing).
func buildApplication(runtime: ServiceRuntime, database: AuditDatabase) -> ServiceApplication {
    runtime.makeApplication(
        routes: AuditRoutes(database: database),
        readiness: [ReadinessCheck("mongo") { try await database.checkReady() }],
        services: [AuditConnector(database: database)]
    )
}

/// Mongo's current addresses from discovery (`_main._tcp.mongo.<namespace>.<suffix>`).
func discoveredMongo(_ resolver: ServiceResolver) -> @Sendable () async throws -> [MongoTarget] {
    {
        try await resolver.resolve(.mongo).map { MongoTarget(host: $0.host, port: $0.port) }
    }
}
