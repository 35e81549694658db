import Contracts
import Discovery
import Logging
import RedisAdapter

/// Page events into the Redis list `eventservice`, many values per `LPUSH` (one round trip).
/// LPUSH adds each value at the head in turn, so with eventservice taking from the tail the
/// events are consumed in the order they were recorded.
struct RedisEventSink: EventSink {
    static let listKey = EventQueueContract.queue
    let client: RedisClient

    init(client: RedisClient) { self.client = client }

    /// Undelivered audit records wait in the same Redis until the next start.
    var auditParking: RedisAuditParking { RedisAuditParking(client: client) }

    /// Redis found like every other service; the client re-resolves after a connection error,
    /// so a Redis that comes back elsewhere is found again.
    static func discovered(by resolver: ServiceResolver, logger: Logger) -> RedisEventSink {
        RedisEventSink(client: RedisClient(
            endpoint: {
                guard let target = try await resolver.resolve(.redis).first else { throw NoTargetsError(service: "redis") }
                return (target.host, target.port)
            },
            logger: logger
        ))
    }

    func push(_ messages: [String]) async throws {
        let reply: RedisValue
        do {
            reply = try await client.command(["LPUSH", Self.listKey] + messages)
        } catch where !error.isConnectionError {
            throw EventsRejected(error.description)
        }
        if case .error(let message) = reply { throw EventsRejected(message) }
    }
}
