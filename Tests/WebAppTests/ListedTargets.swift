import Discovery
import Synchronization

@testable import WebApp

/// Round robin over the targets a closure returns, moving on to the next target when one cannot
/// be connected to: the same contract (and the same connection-failure rule) as `ServiceBalancer`,
/// with an injectable target source, so tests can use loopback servers without DNS.
final class ListedTargets: TargetSelector {
    private let service: String
    private let targets: @Sendable () async throws -> [ServiceTarget]
    private let next = Atomic<Int>(0)

    init(service: String, targets: @escaping @Sendable () async throws -> [ServiceTarget]) {
        self.service = service
        self.targets = targets
    }

    func withTarget<T: Sendable>(_ body: @Sendable (ServiceTarget) async throws -> T) async throws -> T {
        let list = try await targets()
        guard !list.isEmpty else { throw NoTargetsError(service: service) }
        let start = next.wrappingAdd(1, ordering: .relaxed).oldValue
        var lastError: any Error = NoTargetsError(service: service)
        for offset in 0..<list.count {
            let target = list[(start &+ offset) % list.count]
            do {
                return try await body(target)
            } catch  where ServiceBalancer.isConnectionFailure(error) {
                lastError = error
            }
        }
        throw lastError
    }
}
