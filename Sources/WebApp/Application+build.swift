import Discovery
import ServiceRuntime

/// The webapp: service clients, the runtime's router (health, readiness, metrics, request log)
/// with the pages on it, and the background services; adderservice, auditservice and Redis found
/// through discovery.
public func buildApplication(runtime: ServiceRuntime) throws -> ServiceApplication {
    try buildApplication(
        runtime: runtime, targets: .discovered(by: runtime.resolver),
        eventSink: RedisEventSink.discovered(by: runtime.resolver, logger: runtime.logger)
    )
}

/// The same with other targets and event sink (tests: loopback servers, an in-memory sink).
func buildApplication(runtime: ServiceRuntime, targets: WebAppTargets, eventSink: any EventSink) throws -> ServiceApplication {
    let http = ServiceConnectionPool()
    let adder = AdderClient(client: ServiceHTTPClient(service: "adderservice", http: http, selector: targets.adderservice))
    let audit = AuditClient(client: ServiceHTTPClient(service: "auditservice", http: http, selector: targets.auditservice))
    let dependencies = WebAppDependencies(
        adder: adder, audit: audit,
        auditRecorder: AuditRecorder(audit: audit, parking: (eventSink as? RedisEventSink)?.auditParking, logger: runtime.logger),
        events: EventRecorder(sink: eventSink, logger: runtime.logger)
    )
    let pages = PageRenderer()
    // The connection pool is listed first so it shuts down last, after the recorders' final sends.
    return runtime.makeApplication(
        routes: WebAppRoutes(pages: pages, dependencies: dependencies),
        readiness: [adderserviceReadiness(targets.findAdderservice)], errors: WebAppRoutes.errorPages(pages),
        services: [ConnectionPoolService(pool: http), dependencies.auditRecorder, dependencies.events]
    )
}

/// Ready when adderservice can be found: without it no calculation works. Redis and auditservice
/// are left out on purpose: without them every page still works (events wait in the buffer, the
/// audit page says the history is unavailable, calculations are still shown), so taking the
/// webapp out of the load balancer for them would turn a partial outage into a full one.
func adderserviceReadiness(_ findAdderservice: @escaping @Sendable () async throws -> [ServiceTarget]) -> ReadinessCheck {
    ReadinessCheck("adderservice") {
        guard try await !findAdderservice().isEmpty else { throw NoTargetsError(service: "adderservice") }
    }
}
