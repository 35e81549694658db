import Queueing

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
    /// Runs every check concurrently; returns the failures by name. `limit` is for the whole
    /// answer, so the checks get 85 % of it: the rest is for building and sending the response,
    /// which on a loaded machine took a quarter of a second.
    static func failures(of checks: [ReadinessCheck], limit: Duration) async -> [String: String] {
        let checkLimit = limit * 0.85
        return await withTaskGroup(of: (String, String?).self) { group in
            for check in checks {
                group.addTask { (check.name, await check.failure(limit: checkLimit)) }
            }
            var failures: [String: String] = [:]
            for await (name, failure) in group {
                if let failure { failures[name] = failure }
            }
            return failures
        }
    }

    /// The check's failure, or a timeout at `limit`. The check runs in a task of its own that
    /// the answer does not wait for: a check stuck in a blocking C call (a stalled database)
    /// cannot be cancelled, and a task group would wait for it past the limit. Its answer goes
    /// into a queue of one that the caller waits on until the limit; one that comes later is
    /// offered to a queue nobody reads.
    private func failure(limit: Duration) async -> String? {
        let answer = AsyncQueue<CheckAnswer>(capacity: 1)
        let check = self.check
        let checking = Task {
            do {
                try await check()
                answer.offer(CheckAnswer(failure: nil))
            } catch {
                answer.offer(CheckAnswer(failure: String(describing: error)))
            }
        }
        do {
            // Never nil: the queue is not finished.
            return try await answer.next(timeout: limit)?.failure
        } catch {
            checking.cancel()
            return error is DeadlineExceeded ? String(describing: ReadinessTimeout(limit: limit)) : "cancelled"
        }
    }
}

/// One check's outcome: nil when it passed.
private struct CheckAnswer: Sendable {
    let failure: String?
}
