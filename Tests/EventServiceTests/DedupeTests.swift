import Contracts
import Foundation
import RedisAdapter
import TestSupport
import Testing

@testable import EventService

/// Each record id is applied once within the dedupe window, however often a producer resends it.
@Suite("Record ids against a real redis-server", .stopsServers)
struct DedupeTests {
    @Test func aResentRecordIsCountedOnceAndReportedAsADuplicate() async throws {
        let server = try await RedisServer.start()
        let harness = try await WorkerHarness(port: server.port, startWorker: false)
        let worker = WorkerHarness.makeWorker(port: server.port)
        let resent = recordMessage("/add", id: "webapp-1-a")
        // The copy arrives in the same batch and again in a later one, as after two timeouts.
        try await harness.push([resent, recordMessage("/add"), resent])
        let first = try await ReturnPathTests.drain(worker, harness)
        try await harness.push([resent, recordMessage("/audit")])
        let second = try await ReturnPathTests.drain(worker, harness)

        #expect(first == AppliedCounts(records: 2, summaries: 0, deadLetters: 0, duplicates: 1))
        #expect(second == AppliedCounts(records: 1, summaries: 0, deadLetters: 0, duplicates: 1))
        #expect(try await harness.counts() == ["/add": 2, "/audit": 1])
        #expect(try await harness.length(harness.keys.log) == 3)
    }

    @Test func recordsWithoutAnIDAreCountedEveryTimeAsTheSeedsSendThem() async throws {
        let server = try await RedisServer.start()
        let harness = try await WorkerHarness(port: server.port, startWorker: false)
        let worker = WorkerHarness.makeWorker(port: server.port)
        let seeds = #"{"action":"record","type":"page","url":"http://localhost:3000/"}"#
        try await harness.push([seeds, seeds, seeds])
        let applied = try await ReturnPathTests.drain(worker, harness)
        #expect(applied.records == 3)
        #expect(try await harness.counts() == ["http://localhost:3000/": 3])
    }

    /// The window keeps between one and two generations of ids: a copy within `dedupeWindow`
    /// newer ids is always caught, and Redis holds at most twice that many.
    @Test func theWindowRemembersAtLeastItsSizeAndHoldsAtMostTwice() async throws {
        let server = try await RedisServer.start()
        var settings = EventWorkerSettings()
        settings.dedupeWindow = 100
        settings.batchSize = 10
        let harness = try await WorkerHarness(port: server.port, startWorker: false)
        let worker = WorkerHarness.makeWorker(port: server.port, settings: settings)
        let original = recordMessage("/kept", id: "first")
        try await harness.push([original] + (1...99).map { recordMessage("/other", id: "n\($0)") } + [original])
        var applied = try await ReturnPathTests.drain(worker, harness)
        #expect(applied.duplicates == 1, "a copy 99 ids later is caught")

        try await harness.push((100...450).map { recordMessage("/other", id: "n\($0)") } + [original])
        applied = try await ReturnPathTests.drain(worker, harness)
        #expect(applied.duplicates == 0, "a copy 350 ids later is past the window")
        let held = try await harness.redis.command(["HLEN", harness.keys.seen]).integer ?? -1
        let previous = try await harness.redis.command(["HLEN", harness.keys.seenPrevious]).integer ?? -1
        #expect(held < 110 && previous < 110, "\(held) + \(previous) ids held")
    }
}
