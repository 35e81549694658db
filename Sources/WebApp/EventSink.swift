/// Where page events go: the Redis list `eventservice` (`RedisEventSink`) in production.
protocol EventSink: Sendable {
    /// Pushes the messages in one command (one round trip). Throws `EventsRejected` when the
    /// server refused them (resending cannot help); any other error means "try again later".
    func push(_ messages: [String]) async throws
}

/// The sink's server answered the push with an error: the batch is dropped, not retried.
struct EventsRejected: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { "events rejected: \(message)" }
}
