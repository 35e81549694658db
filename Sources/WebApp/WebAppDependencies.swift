/// What the pages talk to. Built from discovery in production (`buildApplication`), from loopback
/// test servers in tests.
public struct WebAppDependencies: Sendable {
    public let adder: AdderClient
    public let audit: AuditClient
    public let auditRecorder: AuditRecorder
    public let events: EventRecorder

    public init(adder: AdderClient, audit: AuditClient, auditRecorder: AuditRecorder, events: EventRecorder) {
        self.adder = adder
        self.audit = audit
        self.auditRecorder = auditRecorder
        self.events = events
    }
}
