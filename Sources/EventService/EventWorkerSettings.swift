import ServiceRuntime

/// Tunables of the worker, with the defaults the service runs with.
struct EventWorkerSettings: Sendable {
    /// Most messages applied by one script call.
    var batchSize: Int = 500
    /// Most bytes of messages one take looks at (at least one message; each is at most
    /// `EventQueueContract.maximumMessageBytes`): what bounds the worker's memory per round.
    /// 500 page events are ~60 KB, so the budget never shortens a batch of them.
    var batchBytes: Int = 512 * 1024
    /// How long one BLMOVE waits for a message, in seconds; also bounds how long shutdown waits.
    var blockSeconds: Int = 1
    /// Length of the raw event log.
    var logCapacity: Int = 10_000
    /// Lifetime of a summary reply on its return path, in seconds.
    var summaryTTLSeconds: Int = 60
    /// Record ids remembered per generation of the dedupe window; the window holds the newest
    /// `dedupeWindow` to `2 × dedupeWindow` ids. A copy of an event exists only when a producer
    /// resent a push whose reply it did not see (a timeout, a broken connection); the resend
    /// follows the original within the producer's command timeout plus its backoff (5 s + 1 s
    /// for the webapp), so the copies are apart by at most what all producers push in ~6 s.
    /// One webapp tops out near 21,000 pages/s (bench/RESULTS.md): 250,000 ids cover two at
    /// full speed with room to spare. Memory: 18 MB of Redis per generation of 250,000 webapp
    /// ids (MEMORY USAGE, Redis 7.0), so at most 36 MB.
    var dedupeWindow: Int = 250_000
    /// Between failed rounds while Redis is away.
    var retry = Backoff(initial: .milliseconds(50), maximum: .milliseconds(1600))
    /// How often the queue depth gauge is sampled.
    var depthSampleInterval: Duration = .seconds(2)

    init() {}
}
