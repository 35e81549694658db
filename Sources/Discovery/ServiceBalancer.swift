import Logging
import Synchronization

/// Spreads calls to a service over every target DNS gives (round robin), and fails over to the
/// next target when one cannot be connected to.
public final class ServiceBalancer: Sendable {
    public let service: MicroService
    private let resolver: ServiceResolver
    private let next = Atomic<Int>(0)

    public init(resolver: ServiceResolver, service: MicroService) {
        self.resolver = resolver
        self.service = service
    }

    /// Runs `body` with targets in round-robin order. When `body` throws an error that
    /// `isConnectionFailure(_:)` classifies as "could not connect", the next target is tried;
    /// any other error is rethrown at once. When every target fails to connect, throws
    /// `ServiceUnreachable` naming each target and its error. A failed lookup throws `DiscoveryError`.
    public func withTarget<T: Sendable>(_ body: @Sendable (ServiceTarget) async throws -> T) async throws -> T {
        let targets = try await resolver.resolve(service)
        let start = next.wrappingAdd(1, ordering: .relaxed).oldValue
        var failures: [(ServiceTarget, any Error)] = []
        for offset in targets.indices {
            let target = targets[Self.index(start + offset, count: targets.count)]
            do {
                return try await body(target)
            } catch  where Self.isConnectionFailure(error) {
                resolver.logger.debug(
                    "cannot connect, trying the next target",
                    metadata: ["service": "\(service)", "target": "\(target)", "error": "\(error)"]
                )
                failures.append((target, error))
            }
        }
        throw ServiceUnreachable(service: service.name, failures: failures.map { "\($0.0) (\($0.1))" })
    }

    /// `position` modulo `count`, non-negative even after the counter wraps around.
    static func index(_ position: Int, count: Int) -> Int {
        let remainder = position % count
        return remainder < 0 ? remainder + count : remainder
    }
}

/// Every target of a service refused the connection. It is itself a connection failure, so a
/// caller can map it to 503 like any other.
public struct ServiceUnreachable: ConnectionFailure, CustomStringConvertible {
    public let service: String
    /// "host:port (error)" for each target tried.
    public let failures: [String]

    public var description: String {
        "cannot connect to \(service) on any of its targets: \(failures.joined(separator: ", "))"
    }
}
