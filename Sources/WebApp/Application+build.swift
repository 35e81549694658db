import Discovery
import Logging
import RedisAdapter
import ServiceClient
import ServiceRuntime

/// The webapp: service clients, the runtime's router (health, readiness, metrics, request log)
/// with the pages on it, and the background services; adderservice, auditservice and Redis found
/// through discovery.
public func buildApplication(runtime: ServiceRuntime) throws -> ServiceApplication {
    let resolver = runtime.resolver, logger = runtime.logger
    return buildApplication(
        runtime: runtime, targets: .discovered(by: resolver),
        eventSink: RedisEventSink(client: .discovered(by: resolver, logger: logger)),
        outbox: AuditOutbox(
            // On a calculation's path: a Redis that does not answer within a second is passed
            // over for auditservice itself.
            writer: .discovered(by: resolver, logger: logger, connectTimeout: .milliseconds(500), commandTimeout: .seconds(1)),
            reader: .discovered(by: resolver, logger: logger)
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
    let deliveries = outbox.map { [AuditDelivery(outbox: $0, audit: audit, settings: delivery, logger: runtime.logger, tracer: tracer)] } ?? []
    let pages = PageRenderer()
    // The connection pool is listed first so it shuts down last, after the background services' final sends.
    return runtime.makeApplication(
        routes: WebAppRoutes(pages: pages, dependencies: dependencies),
        readiness: [adderserviceReadiness(targets.findAdderservice)], errors: WebAppRoutes.errorPages(pages),
        services: [ConnectionPoolService(pool: http)] + deliveries + [dependencies.events]
    )
}

/// Ready when adderservice can be found: without it no calculation works. Redis and auditservice
/// are left out on purpose: without either a calculation is still recorded through the other
/// (events wait in the buffer, the audit page says the history is unavailable), so taking the
/// webapp out of the load balancer for one of them would turn a partial outage into a full one.
func adderserviceReadiness(_ findAdderservice: @escaping @Sendable () async throws -> [ServiceTarget]) -> ReadinessCheck {
    ReadinessCheck("adderservice") {
        guard try await !findAdderservice().isEmpty else { throw NoTargetsError(service: "adderservice") }
    }
}
