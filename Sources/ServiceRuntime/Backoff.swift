/// Capped exponential backoff between retries: `initial`, then doubling up to `maximum`.
/// A value: settings hold its shape, and each retry loop steps its own copy.
public struct Backoff: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    private var previous: Duration?

    public init(initial: Duration, maximum: Duration) {
        self.initial = initial
        self.maximum = maximum
    }

    /// How long to wait before the next attempt.
    public mutating func next() -> Duration {
        let delay = previous.map { min($0 * 2, maximum) } ?? initial
        previous = delay
        return delay
    }

    /// After a success: the next failure waits `initial` again.
    public mutating func reset() { previous = nil }
}
