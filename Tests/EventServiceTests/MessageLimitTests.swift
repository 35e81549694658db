import Contracts
import Foundation
import TestSupport
import Testing

@testable import EventService
@testable import RedisAdapter

/// No single message can stop the worker: oversized ones stay in Redis, a dead letter that
/// cannot be written is counted and dropped, a summary nobody waits for is discarded.
@Suite("Message limits against a real redis-server", .stopsServers)
struct MessageLimitTests {
    static let limit = EventQueueContract.maximumMessageBytes

    /// Rounds until the queue and the processing list are empty, summed; fails after `rounds`.
    static func drain(_ worker: EventWorker, _ harness: WorkerHarness, rounds: Int = 50) async throws -> AppliedCounts {
        var total = AppliedCounts()
        for _ in 0..<rounds {
            if try await harness.length(harness.keys.queue) + harness.length(harness.keys.processing) == 0 { return total }
            total = total + (try await worker.round())
        }
        throw TestSupportError("still not drained after \(rounds) rounds: \(total)")
    }

    static func deadLetters(_ harness: WorkerHarness) async throws -> [[String: Any]] {
        try (try await harness.redis.command(["LRANGE", harness.keys.dead, "0", "-1"]).array ?? []).map { letter in
            try #require(try JSONSerialization.jsonObject(with: Data((letter.string ?? "").utf8)) as? [String: Any])
        }
    }

    /// A record of exactly `bytes` bytes, its url padded, with a fresh id.
    static func record(bytes: Int) -> String {
        let id = UUID().uuidString
        let message = recordMessage("/" + String(repeating: "a", count: bytes - recordMessage("/", id: id).utf8.count), id: id)
        precondition(message.utf8.count == bytes)
        return message
    }

    @Test func messagesOverTheLimitAreDeadLetteredWithTheirSizeAndAPrefix() async throws {
        let server = try await RedisServer.start()
        let harness = try await WorkerHarness(port: server.port, startWorker: false)
        let worker = WorkerHarness.makeWorker(port: server.port)
        let atLimit = Self.record(bytes: Self.limit)
        let overLimit = "x" + atLimit
        // The 256-byte cut falls inside "é": the prefix stops before it.
        let cutInUTF8 = String(repeating: "b", count: 255) + String(repeating: "é", count: Self.limit)
        // Left in the processing list (by a worker from before the limit): found there too.
        let leftOver = String(repeating: "c", count: Self.limit + 2)
        _ = try await harness.redis.command(["LPUSH", harness.keys.processing, leftOver])
        try await harness.push([atLimit, overLimit, cutInUTF8])
        // Not UTF-8 either: pushed from Lua, as a Swift string cannot hold byte 0xFF.
        _ = try await harness.redis.command([
            "EVAL", "return redis.call('LPUSH', KEYS[1], string.rep('\\255', ARGV[1]))", "1", harness.keys.queue, "\(Self.limit + 7)",
        ])

        let done = try await Self.drain(worker, harness)
        #expect(done.records == 1 && done.deadLetters == 4 && done.deadLettersLost == 0, "\(done)")
        #expect(try await harness.counts().values.reduce(0, +) == 1, "a message of exactly the limit counts")

        var letters: [Int: [String: Any]] = [:]
        for letter in try await Self.deadLetters(harness) {
            #expect(letter["reason"] as? String == "larger than 65536 bytes")
            #expect(letter["message"] == nil && letter["messageHex"] == nil)
            letters[try #require(letter["size"] as? Int)] = letter
        }
        #expect(letters[overLimit.utf8.count]?["prefix"] as? String == String(overLimit.utf8.prefix(256))!)
        #expect(letters[cutInUTF8.utf8.count]?["prefix"] as? String == String(repeating: "b", count: 255))
        #expect(letters[leftOver.utf8.count]?["prefix"] as? String == String(repeating: "c", count: 256))
        #expect(letters[Self.limit + 7]?["prefixHex"] as? String == String(repeating: "ff", count: 256))
        #expect(try await harness.length(harness.keys.processing) == 0)
    }

    @Test func oneRoundTakesABoundedNumberOfBytes() async throws {
        let server = try await RedisServer.start()
        let harness = try await WorkerHarness(port: server.port, startWorker: false)
        let worker = WorkerHarness.makeWorker(port: server.port)
        try await harness.push((0..<20).map { _ in Self.record(bytes: 60_000) })

        let first = try await worker.round()
        let budget = EventWorkerSettings().batchBytes
        #expect(first.records > 0 && first.records <= budget / 60_000 + 1, "\(first)")
        let rest = try await Self.drain(worker, harness)
        #expect(first.records + rest.records == 20)
    }

    @Test func deadLettersThatCannotBeWrittenAreCountedAndTheWorkerMovesOn() async throws {
        let server = try await RedisServer.start()
        let harness = try await WorkerHarness(port: server.port, startWorker: false)
        let worker = WorkerHarness.makeWorker(port: server.port)
        _ = try await harness.redis.command(["SET", harness.keys.dead, "not a list"])
        try await harness.push([recordMessage("/good"), "not json", String(repeating: "x", count: Self.limit + 1)])
        _ = try await harness.redis.command(["EVAL", "return redis.call('LPUSH', KEYS[1], 'bad\\255')", "1", harness.keys.queue])
        try await harness.push([recordMessage("/good")])

        let done = try await Self.drain(worker, harness)
        #expect(done.records == 2 && done.deadLetters == 0 && done.deadLettersLost == 3, "\(done)")
        #expect(done.loss?.hasPrefix("WRONGTYPE") == true, "\(done.loss ?? "no loss")")
        #expect(try await harness.counts() == ["/good": 2])
        #expect(try await harness.redis.command(["GET", harness.keys.dead]) == .bulk("not a list"))
    }

    @Test func aSummaryTakenAfterItsDeadlineIsDiscardedAndCounted() async throws {
        let server = try await RedisServer.start()
        let harness = try await WorkerHarness(port: server.port, startWorker: false)
        let worker = WorkerHarness.makeWorker(port: server.port)
        let time = try await harness.redis.command(["TIME"]).array ?? []
        let now = try #require(Int64(time.first?.string ?? "")) * 1000
        let paths = (0..<3).map { EventQueueContract.replyPath(suffix: "deadline-\($0)") }
        try await harness.push([
            recordMessage("/page"),
            EventQueueContract.summaryMessage(returnPath: paths[0], deadline: now - 1),
            EventQueueContract.summaryMessage(returnPath: paths[1], deadline: now + 60_000),
            EventQueueContract.summaryMessage(returnPath: paths[2]),
        ])

        let done = try await Self.drain(worker, harness)
        #expect(done.expired == 1 && done.summaries == 2 && done.deadLetters == 0, "\(done)")
        #expect(try await harness.redis.command(["EXISTS", paths[0]]) == .integer(0))
        for path in paths.dropFirst() {
            #expect(try await harness.redis.command(["LPOP", path]) == .bulk(#"{"/page":1}"#))
        }
    }

    /// BLMOVE with its reply switched off: the message moves, nothing of it is read, and the
    /// connection's later replies still line up.
    @Test func aDiscardedReplyLeavesTheConnectionInStep() async throws {
        let server = try await RedisServer.start()
        let harness = try await WorkerHarness(port: server.port, startWorker: false)
        try await harness.push(["m"])
        try await harness.redis.commandDiscardingReply(["BLMOVE", harness.keys.queue, harness.keys.processing, "RIGHT", "LEFT", "1"])
        #expect(try await harness.redis.command(["LRANGE", harness.keys.processing, "0", "-1"]) == .array([.bulk("m")]))
        let started = ContinuousClock.now
        try await harness.redis.commandDiscardingReply(["BLMOVE", harness.keys.queue, harness.keys.processing, "RIGHT", "LEFT", "0.2"])
        #expect(ContinuousClock.now - started >= .milliseconds(150), "it waited for the block's timeout")
        #expect(try await harness.redis.command(["ECHO", "in step"]) == .bulk("in step"))
    }
}
