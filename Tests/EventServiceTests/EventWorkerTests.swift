import Foundation
import TestSupport
import Testing

@testable import EventService
@testable import RedisAdapter

@Suite("EventWorker against a real redis-server", .stopsServers)
struct EventWorkerTests {
    @Test func recordThenSummaryPushesTheCountsToTheReturnPathWithATTL() async throws {
        let server = try await RedisServer.start()
        let harness = try await WorkerHarness(port: server.port)
        let (summary, returnPath) = summaryRequest()
        try await harness.push(
            [
                recordMessage("http://localhost:3000/add"), recordMessage("http://localhost:3000/"),
                recordMessage("http://localhost:3000/add"),
            ]
                + [summary]
        )

        try await waitUntil(timeout: .seconds(10), "the summary reply") {
            try await harness.length(returnPath) == 1
        }
        let ttl = try await harness.redis.command(["TTL", returnPath]).integer ?? -1
        #expect((1...60).contains(ttl))
        let reply = try #require(try await harness.redis.command(["LPOP", returnPath]).string)
        #expect(try decodeObject(reply) == ["http://localhost:3000/add": 2, "http://localhost:3000/": 1])
        #expect(!reply.contains(#"\/"#))
        #expect(try await harness.length(harness.keys.log) == 3)
        #expect(try await harness.length(harness.keys.processing) == 0)
        await harness.stop()
    }

    @Test func summaryOfNothingIsAnEmptyObject() async throws {
        let server = try await RedisServer.start()
        let harness = try await WorkerHarness(port: server.port)
        let (summary, returnPath) = summaryRequest(suffix: "empty")
        try await harness.push([summary])
        let reply = try await harness.redis.command(["BLPOP", returnPath, "10"])
        #expect(reply == .array([.bulk(returnPath), .bulk("{}")]))
        await harness.stop()
    }

    @Test(.loadTest) func tenThousandEventsFromEightProducersAreCountedExactly() async throws {
        let server = try await RedisServer.start()
        let harness = try await WorkerHarness(port: server.port)
        let (messages, expected) = recordStream(count: 10_000, urls: 25)
        let producers = stride(from: 0, to: messages.count, by: 1250).map { Array(messages[$0..<$0 + 1250]) }

        try await withThrowingTaskGroup(of: Void.self) { group in
            for share in producers {
                group.addTask {
                    let connection = try await RedisConnection.connect(
                        host: "127.0.0.1", port: server.port, connectTimeout: .seconds(5), commandTimeout: .seconds(5))
                    defer { connection.close() }
                    // Small chunks, so the worker drains while producers still push.
                    for start in stride(from: 0, to: share.count, by: 50) {
                        try await harness.push(Array(share[start..<min(start + 50, share.count)]), on: connection)
                    }
                }
            }
            try await group.waitForAll()
        }

        try await harness.waitUntilCounted(10_000)
        #expect(try await harness.counts() == expected)
        #expect(try await harness.length(harness.keys.log) == 10_000)
        #expect(try await harness.length(harness.keys.dead) == 0)
        await harness.stop()
    }

    @Test func poisonMessagesAreDeadLetteredWithReasonsWhileGoodOnesCount() async throws {
        let server = try await RedisServer.start()
        let harness = try await WorkerHarness(port: server.port)
        let poison = [
            "this is not json": "not valid JSON",
            #"{"action":"record","type":"page"}"#: "record without \"url\"",
            #"{"action":"explode","url":"http://x/"}"#: "unknown action \"explode\"",
            #"{"action":"summary"}"#: "summary without \"returnPath\"",
        ]
        var messages: [String] = []
        for bad in poison.keys.sorted() {
            messages += [recordMessage("http://good/"), bad]
        }
        try await harness.push(messages)
        // Not UTF-8 at all: a byte 0xFF, pushed from Lua because Swift strings cannot hold it.
        _ = try await harness.redis.command([
            "EVAL", "return redis.call('LPUSH', KEYS[1], 'bad' .. string.char(255))", "1", harness.keys.queue,
        ])
        try await harness.push([recordMessage("http://good/")])

        try await harness.waitUntilCounted(5)
        try await waitUntil(timeout: .seconds(10), "five dead letters") { try await harness.length(harness.keys.dead) == 5 }
        #expect(try await harness.counts() == ["http://good/": 5])

        let letters = try await harness.redis.command(["LRANGE", harness.keys.dead, "0", "-1"]).array ?? []
        var reasons: [String: String] = [:]
        var hexMessages: [String] = []
        for letter in letters {
            let object = try #require(
                try JSONSerialization.jsonObject(with: Data((letter.string ?? "").utf8)) as? [String: Any]
            )
            let reason = try #require(object["reason"] as? String)
            if let message = object["message"] as? String { reasons[message] = reason }
            if let hex = object["messageHex"] as? String { hexMessages.append(hex) }
            #expect(object["deadLetteredAt"] is NSNumber)
        }
        #expect(reasons == poison)
        #expect(hexMessages == ["626164ff"])
        #expect(try await harness.length(harness.keys.processing) == 0)
        await harness.stop()
    }

    @Test func messagesLeftInProcessingByACrashAreAppliedOnceOnStart() async throws {
        let server = try await RedisServer.start()
        let harness = try await WorkerHarness(port: server.port, startWorker: false)
        // A crash after taking a batch: messages in the processing list, not yet applied.
        let (leftOver, expectedLeftOver) = recordStream(count: 300, urls: 3, tag: "-crash")
        _ = try await harness.redis.pipeline(leftOver.map { ["LPUSH", harness.keys.processing, $0] })
        let (queued, expectedQueued) = recordStream(count: 700, urls: 3)
        try await harness.push(queued)

        let worker = WorkerHarness.makeWorker(port: server.port)
        let task = Task { try await worker.run() }
        try await harness.waitUntilCounted(1000)
        task.cancel()
        _ = await task.result
        #expect(try await harness.counts() == expectedLeftOver.merging(expectedQueued) { $0 + $1 })
    }

    @Test func aBatchAppliedTwiceCountsOnce() async throws {
        let server = try await RedisServer.start()
        let harness = try await WorkerHarness(port: server.port, startWorker: false)
        let messages = (0..<4).map { _ in recordMessage("http://same/") } + [#"{"action":"nope"}"#]
        _ = try await harness.redis.pipeline(messages.map { ["LPUSH", harness.keys.processing, $0] })
        let batch = EventBatch(messages: messages, keys: harness.keys, settings: EventWorkerSettings())

        let first = try await EventScripts.applyBatch.run(on: harness.redis, keys: batch.keys, arguments: batch.arguments)
        // The same call again, as after a reply lost to a broken connection.
        let second = try await EventScripts.applyBatch.run(on: harness.redis, keys: batch.keys, arguments: batch.arguments)

        // records, summaries, dead letters, duplicates, expired summaries, dead letters lost, loss
        #expect(first == .array([.integer(4), .integer(0), .integer(1), .integer(0), .integer(0), .integer(0), .bulk("")]))
        #expect(second == .array([.integer(0), .integer(0), .integer(0), .integer(0), .integer(0), .integer(0), .bulk("")]))
        #expect(try await harness.counts() == ["http://same/": 4])
        #expect(try await harness.length(harness.keys.dead) == 1)
    }

    @Test func rawLogIsCapped() async throws {
        let server = try await RedisServer.start()
        var settings = EventWorkerSettings()
        settings.logCapacity = 100
        let harness = try await WorkerHarness(port: server.port, settings: settings)
        try await harness.push(recordStream(count: 1000, urls: 4).messages)
        try await harness.waitUntilCounted(1000)
        #expect(try await harness.length(harness.keys.log) == 100)
        await harness.stop()
    }

    @Test(.loadTest) func redisRestartedMidStreamTheWorkerResumesAndTotalsAreExact() async throws {
        let server = try await DurableRedisServer.start()
        let (messages, expected) = recordStream(count: 50_000, urls: 50)
        let loader = try await WorkerHarness(port: server.port, startWorker: false)
        try await loader.push(messages)

        var settings = EventWorkerSettings()
        settings.batchSize = 100  // small batches: the restart lands mid-stream
        let worker = WorkerHarness.makeWorker(port: server.port, settings: settings)
        let task = Task { try await worker.run() }
        try await waitUntil(timeout: .seconds(30), "some events counted") {
            try await loader.counts().values.reduce(0, +) >= 2_000
        }
        try await server.restart()

        let harness = try await WorkerHarness(port: server.port, startWorker: false)
        try await waitUntil(timeout: .seconds(30), "Redis to load its data") {
            try await harness.redis.command(["PING"]) == .status("PONG")
        }
        let countedAtRestart = try await harness.counts().values.reduce(0, +)
        #expect(countedAtRestart < 50_000, "the restart should land before the stream is drained")
        try await harness.waitUntilCounted(50_000, timeout: .seconds(90))
        task.cancel()
        _ = await task.result
        #expect(try await harness.counts() == expected)
    }
}
