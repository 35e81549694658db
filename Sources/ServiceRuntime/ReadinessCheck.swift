import Synchronization

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
    /// cannot be cancelled, and a task group would wait for it past the limit.
    private func failure(limit: Duration) async -> String? {
        let answer = FirstAnswer()
        let check = self.check
        return await withCheckedContinuation { continuation in
            answer.set(continuation)
            let checking = Task {
                do {
                    try await check()
                    answer.give(nil)
                } catch {
                    answer.give(String(describing: error))
                }
            }
            let timer = Task {
                try await Task.sleep(for: limit)
                answer.give(String(describing: ReadinessTimeout(limit: limit)))
                checking.cancel()
            }
            answer.onAnswer { timer.cancel() }
        }
    }
}

/// The first of several answers to one continuation; later ones are ignored.
private final class FirstAnswer: Sendable {
    private struct State {
        var continuation: CheckedContinuation<String?, Never>?
        var answered = false
        var cleanUp: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    func set(_ continuation: CheckedContinuation<String?, Never>) {
        state.withLock { $0.continuation = continuation }
    }

    func onAnswer(_ cleanUp: @escaping @Sendable () -> Void) {
        let now = state.withLock { state -> Bool in
            if state.answered { return true }
            state.cleanUp = cleanUp
            return false
        }
        if now { cleanUp() }
    }

    func give(_ answer: String?) {
        let (continuation, cleanUp) = state.withLock { state -> (CheckedContinuation<String?, Never>?, (@Sendable () -> Void)?) in
            guard !state.answered else { return (nil, nil) }
            state.answered = true
            defer { state.continuation = nil; state.cleanUp = nil }
            return (state.continuation, state.cleanUp)
        }
        continuation?.resume(returning: answer)
        cleanUp?()
    }
}
