import Contracts

/// Every Redis key the eventservice uses, named in one place.
struct EventKeys: Sendable, Equatable {
    /// The queue producers LPUSH to. `eventservice`, as in the seeds, so old producers still work.
    let queue: String
    /// Messages taken from the queue but not yet applied and acknowledged.
    let processing: String
    /// Hash: url → number of `record` events seen.
    let counts: String
    /// The newest raw `record` messages, capped (LPUSH + LTRIM).
    let log: String
    /// Messages that could not be applied, as JSON envelopes with the reason.
    let dead: String
    /// Hashes of the record ids applied lately (current and previous generation): the dedupe window.
    let seen: String
    let seenPrevious: String

    init(queue: String) {
        self.queue = queue
        processing = queue + ":processing"
        counts = queue + ":counts"
        log = queue + ":log"
        dead = queue + ":dead"
        seen = queue + ":seen"
        seenPrevious = queue + ":seen:previous"
    }

    static let standard = EventKeys(queue: EventQueueContract.queue)
}
