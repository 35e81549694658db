import Contracts
import RedisAdapter

/// Page events into the Redis list `eventservice`, many values per `LPUSH` (one round trip).
/// LPUSH adds each value at the head in turn, so with eventservice taking from the tail the
/// events are consumed in the order they were recorded.
struct RedisEventSink: EventSink {
    static let listKey = EventQueueContract.queue
    let client: RedisClient

    init(client: RedisClient) { self.client = client }

    func push(_ messages: [String]) async throws {
        let reply: RedisValue
        do {
            reply = try await client.command(["LPUSH", Self.listKey] + messages)
        } catch  where !error.isConnectionError {
            throw EventsRejected(error.description)
        }
        if case .error(let message) = reply { throw EventsRejected(message) }
    }
}
