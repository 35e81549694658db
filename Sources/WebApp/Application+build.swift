import Discovery
import Logging
import RedisAdapter
import ServiceClient
import ServiceRuntime

/// The webapp: service clients, the pages on its port and the runtime's health, readiness and
/// metrics on its admin port, and the background services; adderservice, auditservice and Redis found
/// through discovery.
public func buildApplication(runtime: ServiceRuntime) -> ServiceApplication {
    let resolver = runtime.resolver, logger = runtime.logger, credentials = runtime.config.credentials.redis
    return buildApplication(
        runtime: runtime, targets: .discovered(by: resolver),
        eventSink: RedisEventSink(client: .discovered(by: resolver, credentials: credentials, logger: logger)),
        outbox: AuditOutbox(
            // On a calculation's path: a Redis that does not answer within a second is passed
            // over for auditservice itself.
            writer: .discovered(
                by: resolver, credentials: credentials, logger: logger, connectTimeout: .milliseconds(500), commandTimeout: .seconds(1)
            ),
            reader: .discovered(by: resolver, credentials: credentials, logger: logger)
        )
    )
}

/// The same with other targets, event sink and outbox (tests: loopback servers, an in-memory
/// sink; `outbox` nil records every calculation with auditservice directly).
func buildApplication(
    runtime: ServiceRuntime, targets: WebAppTargets, eventSink: any EventSink, outbox: AuditOutbox?,
    delivery: AuditDelivery.Settings = .init()
) -> ServiceApplication {
    let http = ServiceConnectionPool(), tracer = runtime.tracer
    let adder = AdderClient(client: ServiceHTTPClient(service: "adderservice", http: http, selector: targets.adderservice, tracer: tracer))
    let audit = AuditClient(client: ServiceHTTPClient(service: "auditservice", http: http, selector: targets.auditservice, tracer: tracer))
    let dependencies = WebAppDependencies(
        adder: adder, audit: audit, auditRecorder: AuditRecorder(outbox: outbox, audit: audit, logger: runtime.logger),
        events: EventRecorder(sink: eventSink, logger: runtime.logger)
    )
    let deliveries =
        outbox.map { [AuditDelivery(outbox: $0, audit: audit, settings: delivery, logger: runtime.logger, tracer: tracer)] } ?? []
    let pages = PageRenderer()
    let redisClients = (outbox.map { [$0.writer, $0.reader] } ?? []) + ((eventSink as? RedisEventSink).map { [$0.client] } ?? [])
    let readiness =
        [adderserviceReadiness(targets.findAdderservice)] + (redisClients.isEmpty ? [] : [redisCredentialsReadiness(redisClients)])
    // The connection pool is listed first so it shuts down last, after the background services' final sends.
    return runtime.makeApplication(
        routes: WebAppRoutes(pages: pages, dependencies: dependencies),
        readiness: readiness, errors: WebAppRoutes.errorPages(pages),
        services: [ConnectionPoolService(pool: http)] + deliveries + [dependencies.events]
    )
}

/// Ready when adderservice can be found: without it no calculation works. Redis and auditservice
/// being away are left out on purpose: without either a calculation is still recorded through the
/// other (events wait in the buffer, the audit page says the history is unavailable), so taking
/// the webapp out of the load balancer for one of them would turn a partial outage into a full
/// one. Redis refusing the webapp's credentials is another matter (`redisCredentialsReadiness`).
func adderserviceReadiness(_ findAdderservice: @escaping @Sendable () async throws -> [ServiceTarget]) -> ReadinessCheck {
    ReadinessCheck("adderservice") {
        guard try await !findAdderservice().isEmpty else { throw NoTargetsError(service: "adderservice") }
    }
}

/// Not ready while Redis refuses the webapp's credentials (a wrong or missing Secret): that is a
/// deployment's mistake, not an outage, and it mends only by a new deployment, so the pods that
/// have it must not take traffic (a rollout with a bad Secret stops at its first pod while the old
/// pods keep serving, rather than every page event and outbox record being lost). Redis away or
/// slow does not fail it (see `adderserviceReadiness`). Reads what the clients' latest connects
/// found (the outbox's delivery connects every 100 ms): no round trip of its own.
func redisCredentialsReadiness(_ clients: [RedisClient]) -> ReadinessCheck {
    ReadinessCheck("redis") {
        if let refused = clients.lazy.compactMap(\.authenticationFailure).first { throw refused }
    }
}
