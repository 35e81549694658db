import Discovery

/// Picks where a call to a service goes. In production this is Discovery's `ServiceBalancer`
/// (DNS SRV, every target, fail over on connection errors); tests pass selectors of their own
/// to point the webapp at servers on loopback without DNS.
protocol TargetSelector: Sendable {
    func withTarget<T: Sendable>(_ body: @Sendable (ServiceTarget) async throws -> T) async throws -> T
}

/// No target to call: the lookup answered with an empty list.
struct NoTargetsError: Error, CustomStringConvertible {
    let service: String
    var description: String { "no targets for \(service)" }
}
