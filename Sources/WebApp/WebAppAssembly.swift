import Discovery
import Logging
import ServiceLifecycle
import ServiceRuntime

/// The production webapp: service clients found through discovery, the runtime's router (health,
/// readiness, metrics, request log) with the pages on it, and the background services.
public enum WebAppAssembly {
    /// Where the webapp's dependencies are. In production every source is a DNS lookup through the
    /// runtime's resolver; tests pass loopback targets.
    public struct Targets: Sendable {
        public var adderservice: any TargetSelector
        public var auditservice: any TargetSelector
        /// For readiness: can adderservice be found at all?
        public var findAdderservice: @Sendable () async throws -> [ServiceTarget]

        public init(
            adderservice: any TargetSelector, auditservice: any TargetSelector,
            findAdderservice: @escaping @Sendable () async throws -> [ServiceTarget]
        ) {
            self.adderservice = adderservice
            self.auditservice = auditservice
            self.findAdderservice = findAdderservice
        }

        /// Round robin over every SRV target of each service, failing over on connection errors.
        public static func discovered(by resolver: ServiceResolver) -> Targets {
            Targets(
                adderservice: ServiceBalancer(resolver: resolver, service: .adderservice),
                auditservice: ServiceBalancer(resolver: resolver, service: .auditservice),
                findAdderservice: { try await resolver.resolve(.adderservice) }
            )
        }
    }

    public static func makeApplication(
        runtime: ServiceRuntime, targets: Targets, eventSink: any EventSink
    ) throws -> ServiceApplication {
        let http = ServiceHTTP.makeClient()
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
            readiness: [readiness(targets.findAdderservice)], errors: WebAppRoutes.errorPages(pages),
            services: [ConnectionPoolService(pool: http), dependencies.auditRecorder, dependencies.events]
        )
    }

    /// Ready when adderservice can be found: without it no calculation works. Redis and
    /// auditservice are left out on purpose: without them every page still works (events wait in
    /// the buffer, the audit page says the history is unavailable, calculations are still shown),
    /// so taking the webapp out of the load balancer for them would turn a partial outage into a
    /// full one.
    static func readiness(_ findAdderservice: @escaping @Sendable () async throws -> [ServiceTarget]) -> ReadinessCheck {
        ReadinessCheck("adderservice") {
            guard try await !findAdderservice().isEmpty else { throw NoTargetsError(service: "adderservice") }
        }
    }
}
