import Contracts
import Discovery
import Foundation
import Logging
import TestSupport
import Testing

@testable import EventService
@testable import RedisAdapter

/// A worker running in this process against a test's redis-server, plus helpers to feed the queue
/// and read the results.
final class WorkerHarness: Sendable {
    let port: Int
    let keys = EventKeys.standard
    let redis: RedisConnection
    private let task: Task<Void, any Error>?

    init(port: Int, startWorker: Bool = true, settings: EventWorkerSettings = EventWorkerSettings()) async throws {
        self.port = port
        redis = try await RedisConnection.connect(host: "127.0.0.1", port: port, connectTimeout: .seconds(5), commandTimeout: .seconds(5))
        task = startWorker ? Self.startWorker(port: port, settings: settings) : nil
    }

    deinit {
        task?.cancel()
        redis.close()
    }

    static func makeWorker(port: Int, settings: EventWorkerSettings = EventWorkerSettings()) -> EventWorker {
        let endpoint: RedisClient.Endpoint = { .init(host: "127.0.0.1", port: port) }
        let logger = Logger(label: "eventservice-test")
        return EventWorker(
            consumer: RedisClient(endpoint: endpoint, logger: logger, connectTimeout: .seconds(1), commandTimeout: .seconds(5)),
            monitor: RedisClient(endpoint: endpoint, logger: logger),
            settings: settings, logger: logger
        )
    }

    private static func startWorker(port: Int, settings: EventWorkerSettings) -> Task<Void, any Error> {
        let worker = makeWorker(port: port, settings: settings)
        return Task { try await worker.run() }
    }

    func stop() async {
        task?.cancel()
        _ = await task?.result
    }

    /// LPUSHes the messages, as producers do, in pipelined chunks.
    func push(_ messages: [String], on connection: RedisConnection? = nil) async throws {
        let connection = connection ?? redis
        for chunk in stride(from: 0, to: messages.count, by: 1000) {
            let slice = messages[chunk..<min(chunk + 1000, messages.count)]
            _ = try await connection.pipeline(slice.map { ["LPUSH", keys.queue, $0] })
        }
    }

    func counts() async throws -> [String: Int] {
        let flat = try await redis.command(["HGETALL", keys.counts]).array ?? []
        var counts: [String: Int] = [:]
        for index in stride(from: 0, to: flat.count - 1, by: 2) {
            counts[flat[index].string ?? "?"] = Int(flat[index + 1].string ?? "") ?? -1
        }
        return counts
    }

    func length(_ key: String) async throws -> Int {
        Int(try await redis.command(["LLEN", key]).integer ?? -1)
    }

    /// Waits until the queue and the processing list are empty and `total` events are counted.
    func waitUntilCounted(_ total: Int, timeout: Duration = .seconds(60)) async throws {
        try await waitUntil(timeout: timeout, "\(total) events counted") {
            let counted = try await self.counts().values.reduce(0, +)
            let pending = try await self.length(self.keys.queue) + self.length(self.keys.processing)
            return counted >= total && pending == 0
        }
    }
}

func waitUntil(timeout: Duration, _ what: String, _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestSupportError("timed out after \(timeout) waiting for \(what)")
}

/// A record as the webapp sends it, with a fresh id unless one is given.
func recordMessage(_ url: String, id: String = UUID().uuidString) -> String {
    EventQueueContract.recordMessage(url: url, id: id)
}

/// A summary request answered in the reply key space; returns the message and its return path.
func summaryRequest(suffix: String = UUID().uuidString) -> (message: String, returnPath: String) {
    let path = EventQueueContract.replyPath(suffix: suffix)
    return (EventQueueContract.summaryMessage(returnPath: path), path)
}

/// `count` record messages spread over `urls` URLs, and the counts they must produce.
func recordStream(count: Int, urls: Int, tag: String = "") -> (messages: [String], expected: [String: Int]) {
    var expected: [String: Int] = [:]
    let messages = (0..<count).map { index in
        let url = "http://localhost:3000/page/\(index % urls)\(tag)"
        expected[url, default: 0] += 1
        return recordMessage(url)
    }
    return (messages, expected)
}

func decodeObject(_ json: String) throws -> [String: Int] {
    try JSONDecoder().decode([String: Int].self, from: Data(json.utf8))
}
