import Contracts
import Foundation
import TestSupport
import Testing

@testable import EventService
@testable import RedisAdapter

/// A summary request may only answer into the reply key space: every other key it names stays
/// exactly as it was, and the request is dead-lettered with the reason, never lost.
@Suite("Summary return paths against a real redis-server", .stopsServers)
struct ReturnPathTests {
    /// A key's type, content and TTL: what must not change.
    static func snapshot(_ key: String, on redis: RedisConnection) async throws -> [RedisValue] {
        let type = try await redis.command(["TYPE", key])
        let content: RedisValue =
            switch type.string {
            case "list": try await redis.command(["LRANGE", key, "0", "-1"])
            case "hash": try await redis.command(["HGETALL", key])
            case "string": try await redis.command(["GET", key])
            default: .null
            }
        return [type, content, try await redis.command(["TTL", key])]
    }

    /// Rounds of the worker until the queue and the processing list are empty; the sum of what
    /// each round reported (the numbers behind the worker's counters).
    static func drain(_ worker: EventWorker, _ harness: WorkerHarness) async throws -> AppliedCounts {
        var total = AppliedCounts()
        while try await harness.length(harness.keys.queue) + harness.length(harness.keys.processing) > 0 {
            let applied = try await worker.round()
            total.records += applied.records
            total.summaries += applied.summaries
            total.deadLetters += applied.deadLetters
            total.duplicates += applied.duplicates
        }
        return total
    }

    static func deadReasons(_ harness: WorkerHarness) async throws -> [String: String] {
        var reasons: [String: String] = [:]
        for letter in try await harness.redis.command(["LRANGE", harness.keys.dead, "0", "-1"]).array ?? [] {
            let object = try JSONSerialization.jsonObject(with: Data((letter.string ?? "").utf8)) as? [String: Any]
            if let message = object?["message"] as? String, let reason = object?["reason"] as? String { reasons[message] = reason }
        }
        return reasons
    }

    @Test func victimKeysAreUntouchedAndTheRequestsDeadLettered() async throws {
        let server = try await RedisServer.start()
        let harness = try await WorkerHarness(port: server.port, startWorker: false)
        let redis = harness.redis
        let worker = WorkerHarness.makeWorker(port: server.port)
        // The worker's own keys, with content, and a stranger's list and hash.
        try await harness.push((0..<20).map { recordMessage("/page/\($0 % 3)") })
        _ = try await Self.drain(worker, harness)
        _ = try await redis.pipeline([
            ["RPUSH", "victim:list", "a", "b", "c"], ["HSET", "victim:hash", "f", "v"],
            ["LPUSH", harness.keys.dead, #"{"reason":"earlier"}"#],
        ])
        let victims = ["victim:list", "victim:hash", harness.keys.log, harness.keys.dead, harness.keys.counts, harness.keys.seen]
        var before: [String: [RedisValue]] = [:]
        for key in victims { before[key] = try await Self.snapshot(key, on: redis) }

        let requests = victims.map { EventQueueContract.summaryMessage(returnPath: $0) }
        try await harness.push(requests)
        let applied = try await Self.drain(worker, harness)

        for key in victims where key != harness.keys.dead {
            #expect(try await Self.snapshot(key, on: redis) == before[key], "\(key) changed")
        }
        let deadList = try await redis.command(["LRANGE", harness.keys.dead, "0", "-1"]).array ?? []
        #expect(deadList.count == 1 + requests.count)
        #expect(deadList.last == .bulk(#"{"reason":"earlier"}"#), "the dead-letter list only grew")
        #expect(try await redis.command(["TTL", harness.keys.dead]) == .integer(-1))
        let reasons = try await Self.deadReasons(harness)
        for request in requests {
            #expect(reasons[request]?.hasPrefix("returnPath outside the reply key space") == true, "\(request)")
        }
        #expect(applied == AppliedCounts(records: 0, summaries: 0, deadLetters: requests.count))
    }

    @Test func aReplyKeyThatIsNotAListDeadLettersTheRequestAndKeepsTheBatch() async throws {
        let server = try await RedisServer.start()
        let harness = try await WorkerHarness(port: server.port, startWorker: false)
        let worker = WorkerHarness.makeWorker(port: server.port)
        let taken = summaryRequest(suffix: "taken")
        _ = try await harness.redis.command(["HSET", taken.returnPath, "f", "v"])
        let good = summaryRequest()
        // Records on both sides of the failing summary, all in one batch.
        try await harness.push([recordMessage("/a"), taken.message, recordMessage("/a"), good.message, recordMessage("/b")])
        let applied = try await Self.drain(worker, harness)

        #expect(applied == AppliedCounts(records: 3, summaries: 1, deadLetters: 1))
        #expect(try await harness.counts() == ["/a": 2, "/b": 1])
        #expect(try await harness.redis.command(["HGETALL", taken.returnPath]) == .array([.bulk("f"), .bulk("v")]))
        #expect(try await harness.redis.command(["TTL", taken.returnPath]) == .integer(-1))
        #expect(try await Self.deadReasons(harness)[taken.message] == "returnPath holds a hash, not a list")
        let reply = try #require(try await harness.redis.command(["LPOP", good.returnPath]).string)
        #expect(try decodeObject(reply) == ["/a": 2])
    }

    @Test func countsThatCannotBeIncrementedDeadLetterTheirRecordsInsteadOfLosingThem() async throws {
        let server = try await RedisServer.start()
        let harness = try await WorkerHarness(port: server.port, startWorker: false)
        let worker = WorkerHarness.makeWorker(port: server.port)
        _ = try await harness.redis.command(["HSET", harness.keys.counts, "/broken", "not a number"])
        let broken = [recordMessage("/broken"), recordMessage("/broken")]
        try await harness.push([recordMessage("/fine")] + broken)
        let applied = try await Self.drain(worker, harness)

        #expect(applied == AppliedCounts(records: 1, summaries: 0, deadLetters: 2))
        let reasons = try await Self.deadReasons(harness)
        for message in broken { #expect(reasons[message]?.contains("not an integer") == true, "\(reasons)") }
        #expect(try await harness.length(harness.keys.processing) == 0)
    }

    @Test func aWorkerKeyOfTheWrongTypeFailsTheRoundBeforeAnythingIsAcknowledged() async throws {
        let server = try await RedisServer.start()
        let harness = try await WorkerHarness(port: server.port, startWorker: false)
        let worker = WorkerHarness.makeWorker(port: server.port)
        _ = try await harness.redis.command(["SET", harness.keys.counts, "a string"])
        try await harness.push([recordMessage("/a"), recordMessage("/b")])
        await #expect(throws: RedisError.self) { try await worker.round() }
        #expect(try await harness.length(harness.keys.processing) == 2, "both still waiting, none lost")
        _ = try await harness.redis.command(["DEL", harness.keys.counts])
        let applied = try await Self.drain(worker, harness)
        #expect(applied.records == 2)
    }

    @Test func invalidUTF8DeadLettersAreCountedToo() async throws {
        let server = try await RedisServer.start()
        let harness = try await WorkerHarness(port: server.port, startWorker: false)
        let worker = WorkerHarness.makeWorker(port: server.port)
        for _ in 0..<12 {
            _ = try await harness.redis.command([
                "EVAL", "return redis.call('LPUSH', KEYS[1], 'bad' .. string.char(255))", "1", harness.keys.queue,
            ])
        }
        try await harness.push(["not json", recordMessage("/ok")])
        let applied = try await Self.drain(worker, harness)
        #expect(applied.deadLetters == 13)
        #expect(try await harness.length(harness.keys.dead) == 13)
    }
}
