/// One dependency `/readyz` checks, e.g. "mongo reachable". The check throws when it is not.
public struct ReadinessCheck: Sendable {
    public let name: String
    public let check: @Sendable () async throws -> Void

    public init(_ name: String, check: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.check = check
    }
}

/// A readiness check that took longer than its time limit.
struct ReadinessTimeout: Error, CustomStringConvertible {
    let limit: Duration
    var description: String { "no answer within \(limit)" }
}

extension ReadinessCheck {
    /// Runs every check concurrently, each with a time limit; returns the failures by name.
    static func failures(of checks: [ReadinessCheck], limit: Duration) async -> [String: String] {
        await withTaskGroup(of: (String, String?).self) { group in
            for check in checks {
                group.addTask { (check.name, await check.failure(limit: limit)) }
            }
            var failures: [String: String] = [:]
            for await (name, failure) in group {
                if let failure { failures[name] = failure }
            }
            return failures
        }
    }

    private func failure(limit: Duration) async -> String? {
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await check() }
                group.addTask {
                    try await Task.sleep(for: limit)
                    throw ReadinessTimeout(limit: limit)
                }
                defer { group.cancelAll() }
                try await group.next()
            }
            return nil
        } catch {
            return String(describing: error)
        }
    }
}
