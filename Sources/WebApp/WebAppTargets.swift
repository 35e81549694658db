import Discovery

/// Where the webapp's dependencies are. In production every source is a DNS lookup through the
/// runtime's resolver; tests pass loopback targets.
struct WebAppTargets: Sendable {
    var adderservice: any TargetSelector
    var auditservice: any TargetSelector
    /// For readiness: can adderservice be found at all?
    var findAdderservice: @Sendable () async throws -> [ServiceTarget]

    init(
        adderservice: any TargetSelector, auditservice: any TargetSelector,
        findAdderservice: @escaping @Sendable () async throws -> [ServiceTarget]
    ) {
        self.adderservice = adderservice
        self.auditservice = auditservice
        self.findAdderservice = findAdderservice
    }

    /// Round robin over every SRV target of each service, failing over on connection errors.
    static func discovered(by resolver: ServiceResolver) -> WebAppTargets {
        WebAppTargets(
            adderservice: ServiceBalancer(resolver: resolver, service: .adderservice),
            auditservice: ServiceBalancer(resolver: resolver, service: .auditservice),
            findAdderservice: { try await resolver.resolve(.adderservice) }
        )
    }
}
