import AsyncHTTPClient
import Discovery
import NIOCore
import NIOPosix
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Picks where a call to a service goes. In production this is Discovery's `ServiceBalancer`
/// (DNS SRV, every target, fail over on connection errors); tests use `ListedTargets` so they
/// can point the webapp at servers on loopback without DNS.
public protocol TargetSelector: Sendable {
    func withTarget<T: Sendable>(_ body: @Sendable (ServiceTarget) async throws -> T) async throws -> T
}

/// No target to call: the lookup answered with an empty list.
public struct NoTargetsError: Error, CustomStringConvertible {
    public let service: String
    public var description: String { "no targets for \(service)" }
}

/// Round robin over the targets a closure returns, moving on to the next target when one cannot
/// be connected to: the same contract as `ServiceBalancer`, with an injectable target source.
public final class ListedTargets: TargetSelector {
    private let service: String
    private let targets: @Sendable () async throws -> [ServiceTarget]
    private let next = Atomic<Int>(0)

    public init(service: String, targets: @escaping @Sendable () async throws -> [ServiceTarget]) {
        self.service = service
        self.targets = targets
    }

    public func withTarget<T: Sendable>(_ body: @Sendable (ServiceTarget) async throws -> T) async throws -> T {
        let list = try await targets()
        guard !list.isEmpty else { throw NoTargetsError(service: service) }
        let start = next.wrappingAdd(1, ordering: .relaxed).oldValue
        var lastError: any Error = NoTargetsError(service: service)
        for offset in 0..<list.count {
            let target = list[(start &+ offset) % list.count]
            do {
                return try await body(target)
            } catch where ConnectFailure.matches(error) {
                lastError = error
            }
        }
        throw lastError
    }
}

/// "Could not connect" errors: nothing was sent, so another target can safely be tried.
enum ConnectFailure {
    static func matches(_ error: any Error) -> Bool {
        switch error {
        case let error as HTTPClientError: error == .connectTimeout
        case is NIOConnectionError: true
        case let error as ChannelError: isConnectTimeout(error)
        case let error as IOError: [ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ETIMEDOUT].contains(error.errnoCode)
        default: false
        }
    }

    private static func isConnectTimeout(_ error: ChannelError) -> Bool {
        if case .connectTimeout = error { return true }
        return false
    }
}
