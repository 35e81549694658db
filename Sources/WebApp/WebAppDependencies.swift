/// What the pages talk to. Built from discovery in production (`buildApplication`), from loopback
/// test servers in tests.
struct WebAppDependencies: Sendable {
    let adder: AdderClient
    let audit: AuditClient
    let auditRecorder: AuditRecorder
    let events: EventRecorder

    init(adder: AdderClient, audit: AuditClient, auditRecorder: AuditRecorder, events: EventRecorder) {
        self.adder = adder
        self.audit = audit
        self.auditRecorder = auditRecorder
        self.events = events
    }
}
