/// Every Redis key the eventservice uses, named in one place.
public struct EventKeys: Sendable, Equatable {
    /// The queue producers LPUSH to. `eventservice`, as in the seeds, so old producers still work.
    public let queue: String
    /// Messages taken from the queue but not yet applied and acknowledged.
    public let processing: String
    /// Hash: url → number of `record` events seen.
    public let counts: String
    /// The newest raw `record` messages, capped (LPUSH + LTRIM).
    public let log: String
    /// Messages that could not be applied, as JSON envelopes with the reason.
    public let dead: String

    public init(queue: String) {
        self.queue = queue
        processing = queue + ":processing"
        counts = queue + ":counts"
        log = queue + ":log"
        dead = queue + ":dead"
    }

    public static let standard = EventKeys(queue: "eventservice")
}

/// Tunables of the worker, with the defaults the service runs with.
public struct EventWorkerSettings: Sendable {
    /// Most messages applied by one script call.
    public var batchSize: Int = 500
    /// How long one BLMOVE waits for a message, in seconds; also bounds how long shutdown waits.
    public var blockSeconds: Int = 1
    /// Length of the raw event log.
    public var logCapacity: Int = 10_000
    /// Lifetime of a summary reply on its return path, in seconds.
    public var summaryTTLSeconds: Int = 60
    /// How often the queue depth gauge is sampled.
    public var depthSampleInterval: Duration = .seconds(2)

    public init() {}
}
