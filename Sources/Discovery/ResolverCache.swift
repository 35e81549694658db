import Logging
import Synchronization

/// Answers by SRV name: fresh for their TTL, then served a while longer as the query that
/// refreshes them runs (stale-while-revalidate), kept afterwards as the last good answer, and one
/// shared query per name at a time.
///
/// The shared query is an unstructured `Task` on purpose: it belongs to no single caller (the
/// first caller being cancelled must not fail the others waiting on it), and it always ends
/// because libresolv's timeouts bound it.
final class ResolverCache: Sendable {
    typealias Outcome = Result<[ServiceTarget], DiscoveryError>

    private struct Entry {
        /// The last good answer; kept after it expires, to fall back on when DNS fails.
        var targets: [ServiceTarget]?
        /// Served without asking DNS until then.
        var freshUntil: ContinuousClock.Instant
        /// The query under way, shared by every caller that wants this name meanwhile.
        var pending: Task<Outcome, Never>?
    }

    private enum Step {
        case cached([ServiceTarget])
        case wait(Task<Outcome, Never>)
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let retryAfterFailure: Duration
    private let staleWhileRevalidate: Duration
    private let logger: Logger

    init(retryAfterFailure: Duration, staleWhileRevalidate: Duration, logger: Logger) {
        self.retryAfterFailure = retryAfterFailure
        self.staleWhileRevalidate = staleWhileRevalidate
        self.logger = logger
    }

    /// The cached answer for `name` while fresh; once expired, a query (`lookUp`) shared with
    /// other callers, whose outcome the caller waits for — unless the answer expired less than
    /// `staleWhileRevalidate` ago, in which case the caller gets it at once and the query
    /// refreshes it in the background.
    func targets(
        for name: String, lookUp: @escaping @Sendable () async -> Result<DNSAnswer, DiscoveryError>
    ) async -> Outcome {
        let step = entries.withLock { entries -> Step in
            let now = ContinuousClock.now
            var entry = entries[name] ?? Entry(targets: nil, freshUntil: now, pending: nil)
            if let targets = entry.targets, now < entry.freshUntil { return .cached(targets) }
            let query = entry.pending ?? Task { [self] in record(name, await lookUp()) }
            entry.pending = query
            entries[name] = entry
            if let targets = entry.targets, now < entry.freshUntil + staleWhileRevalidate { return .cached(targets) }
            return .wait(query)
        }
        switch step {
        case .cached(let targets): return .success(targets)
        case .wait(let task): return await task.value
        }
    }

    /// Stores what a query found and decides what its callers get: the new answer, or on failure
    /// the last good one (with a warning), or the error when there never was a good answer.
    private func record(_ name: String, _ result: Result<DNSAnswer, DiscoveryError>) -> Outcome {
        let now = ContinuousClock.now
        let outcome = entries.withLock { entries -> (Outcome, stale: Bool) in
            var entry = entries[name] ?? Entry(targets: nil, freshUntil: now, pending: nil)
            entry.pending = nil
            defer { entries[name] = entry }
            switch result {
            case .success(let answer):
                // TTL 0 means "do not cache": never fresh, though still the fallback on failure.
                entry.targets = answer.targets
                entry.freshUntil = now + .seconds(Int(answer.ttl))
                return (.success(answer.targets), false)
            case .failure(let error):
                guard let last = entry.targets else { return (.failure(error), false) }
                entry.freshUntil = now + retryAfterFailure
                return (.success(last), true)
            }
        }
        if outcome.stale, case .failure(let error) = result {
            logger.warning("DNS lookup failed, serving the last good answer", metadata: ["error": "\(error)"])
        }
        return outcome.0
    }
}
