import Contracts
import Discovery
import Logging
import NIOHTTP1
import RedisAdapter
import ServiceRuntime
import Synchronization
import TestSupport
import Testing

@testable import WebApp

#if canImport(Glibc)
import Glibc
#endif

/// The audit outbox in a real redis-server: a calculation's record is in Redis before its page
/// is sent, delivery survives a failing auditservice and a webapp that vanished, and no entry —
/// malformed, huge or refused — can stop it.
@Suite(.stopsServers) struct AuditOutboxTests {
    static func redis(_ port: Int) -> RedisClient {
        RedisClient(endpoint: { .init(host: "127.0.0.1", port: port) }, logger: Logger(label: "test"))
    }

    /// Failed entries are taken again after a second, so the tests of recovery are quick.
    static var quickRetry: AuditOutbox.Settings {
        var settings = AuditOutbox.Settings()
        settings.claimAfter = .seconds(1)
        return settings
    }

    static func length(_ redis: RedisClient, _ key: String = AuditOutbox.Keys.standard.stream) async throws -> Int {
        Int(try await redis.command(["XLEN", key]).integer ?? -1)
    }

    /// Delivery is woken by the webapp's own adds: with a poll far longer than the test, each
    /// calculation still reaches auditservice at once, so records flow as steadily as they come.
    @Test func aCalculationIsDeliveredAtOnceNotAtTheNextPoll() async throws {
        let server = try await RedisServer.start()
        var delivery = Harness.quickDelivery
        delivery.poll = .seconds(30)
        try await Harness.with { harness in
            let (app, _) = try harness.makeApp(outbox: Harness.outbox(redisPort: server.port), delivery: delivery)
            try await app.test { client in
                try await Task.sleep(for: .milliseconds(300))  // delivery has started and is waiting
                for first in 1...5 {
                    let clock = ContinuousClock()
                    let started = clock.now
                    #expect(try await client.submitAdd(first: "\(first)", second: "1").status == .ok)
                    let delivered = await eventually(timeout: .seconds(5), poll: .milliseconds(5)) { harness.audit.stored.count == first }
                    #expect(delivered && clock.now - started < .seconds(1), "calculation \(first): \(clock.now - started)")
                }
            }
        }
    }

    /// An auditservice from before `/append/batch` (404, in the middle of a rollout) gets each
    /// record on its own, and nothing is dead-lettered.
    @Test func anAuditserviceWithoutBatchesGetsTheRecordsOneByOne() async throws {
        let server = try await RedisServer.start()
        let redis = Self.redis(server.port)
        try await Harness.with { harness in
            harness.audit.servesBatches.store(false, ordering: .relaxed)
            try await harness.makeApp(outbox: Harness.outbox(redisPort: server.port)).app.test { client in
                for first in 1...3 {
                    let page = try await client.submitAdd(first: "\(first)", second: "1")
                    #expect(page.status == .ok)
                }
                #expect(await eventually(timeout: .seconds(10)) { harness.audit.stored.count == 3 }, "\(harness.audit.stored)")
                #expect(await eventually { (try? await Self.length(redis)) == 0 }, "delivered entries leave the stream")
                #expect(try await redis.command(["LLEN", AuditOutbox.Keys.standard.dead]).integer == 0)
            }
        }
    }

    @Test func withAuditserviceFailingPagesAreNotDelayedAndEverythingIsDeliveredOnceItRecovers() async throws {
        let server = try await RedisServer.start()
        let redis = Self.redis(server.port)
        try await Harness.with { harness in
            harness.audit.failAppends.store(1_000_000, ordering: .relaxed)
            try await harness.makeApp(outbox: Harness.outbox(redisPort: server.port, settings: Self.quickRetry)).app.test { client in
                let clock = ContinuousClock()
                let elapsed = try await clock.measure {
                    for first in 1...20 {
                        let page = try await client.submitAdd(first: "\(first)", second: "1")
                        #expect(page.status == .ok)
                    }
                }
                // Recorded directly, each page would wait out its 2 s of retries.
                #expect(elapsed < .seconds(8), "twenty pages took \(elapsed) with auditservice failing")
                #expect(harness.audit.stored.isEmpty)
                #expect(try await Self.length(redis) == 20, "every record waits in the outbox")

                harness.audit.failAppends.store(0, ordering: .relaxed)
                let delivered = await eventually(timeout: .seconds(20)) { harness.audit.stored.count == 20 }
                #expect(delivered, "\(harness.audit.stored.count) of 20 delivered")
                #expect(Set(harness.audit.stored.map(\.calc)) == Set((1...20).map { "\($0)+1" }))
                #expect(await eventually { (try? await Self.length(redis)) == 0 }, "delivered entries leave the stream")
            }
        }
    }

    @Test func aFullOutboxRefusesTheCalculationAtOnceAndShowsNoResult() async throws {
        let server = try await RedisServer.start()
        try await Harness.with { harness in
            harness.audit.failAppends.store(1_000_000, ordering: .relaxed)
            var settings = Self.quickRetry
            settings.capacity = 3
            try await harness.makeApp(outbox: Harness.outbox(redisPort: server.port, settings: settings)).app.test { client in
                for first in 1...3 {
                    #expect(try await client.submitAdd(first: "\(first)", second: "1").status == .ok)
                }
                let clock = ContinuousClock()
                let start = clock.now
                let refused = try await client.submitAdd(first: "4", second: "1")
                #expect(start.duration(to: clock.now) < .seconds(1))
                #expect(refused.status == .serviceUnavailable)
                #expect(refused.text.contains("not taking new entries"), "\(refused.text)")
                #expect(!refused.text.contains("<strong>5</strong>"), "a refused calculation is not shown as done")

                harness.audit.failAppends.store(0, ordering: .relaxed)
                #expect(await eventually(timeout: .seconds(20)) { harness.audit.stored.count == 3 })
                try await Task.sleep(for: .milliseconds(300))
                #expect(harness.audit.stored.map(\.calc).sorted() == ["1+1", "2+1", "3+1"])
            }
        }
    }

    /// Redis refusing connections, then frozen: the record goes to auditservice before the page.
    @Test func withRedisDownOrFrozenTheCalculationIsStoredDirectlyBeforeItsPage() async throws {
        let server = try await RedisServer.start()
        try await Harness.with { harness in
            let closed = Harness.closedTarget()
            try await harness.makeApp(outbox: Harness.outbox(redisPort: closed.port)).app.test { client in
                let page = try await client.submitAdd(first: "7", second: "1")
                #expect(page.status == .ok)
                #expect(harness.audit.stored.map(\.calc) == ["7+1"], "stored before the page was sent")
            }
            try await harness.makeApp(outbox: Harness.outbox(redisPort: server.port)).app.test { client in
                server.signal(SIGSTOP)
                defer { server.signal(SIGCONT) }
                let clock = ContinuousClock()
                let start = clock.now
                let page = try await client.submitAdd(first: "8", second: "1")
                let elapsed = start.duration(to: clock.now)
                #expect(page.status == .ok)
                #expect(harness.audit.stored.map(\.calc).contains("8+1"), "stored before the page was sent")
                #expect(elapsed < .seconds(4), "the page waited \(elapsed) for a frozen Redis")
            }
        }
    }

    @Test func withNeitherRedisNorAuditserviceThePageSaysTheCalculationWasNotRecorded() async throws {
        try await Harness.with { harness in
            let app = try harness.makeApp(
                auditTargets: [Harness.closedTarget()], outbox: Harness.outbox(redisPort: Harness.closedTarget().port))
            try await app.app.test { client in
                let page = try await client.submitAdd(first: "2", second: "3")
                #expect(page.status == .serviceUnavailable)
                #expect(page.text.contains("could not be recorded"), "\(page.text)")
                #expect(!page.text.contains("<strong>5</strong>"))
            }
        }
    }

    /// Entries another webapp took and never acknowledged (it was killed) are taken over once
    /// idle; entries no one can deliver go to the dead-letter list, and the rest still flows.
    @Test func entriesOfAVanishedWebappAreTakenOverAndPoisonEntriesAreDeadLettered() async throws {
        let server = try await RedisServer.start()
        let redis = Self.redis(server.port)
        let keys = AuditOutbox.Keys.standard
        _ = try await redis.command(["XGROUP", "CREATE", keys.stream, keys.group, "0", "MKSTREAM"])
        let orphan = AuditAppend(id: "orphan-1", calc: "40+2", result: 42)
        _ = try await redis.command(["XADD", keys.stream, "*", "record", orphan.json])
        // A webapp that took the entry, then died.
        _ = try await redis.command(["XREADGROUP", "GROUP", keys.group, "ghost", "COUNT", "10", "STREAMS", keys.stream, ">"])
        _ = try await redis.command(["XADD", keys.stream, "*", "something", "else"])
        _ = try await redis.command(["XADD", keys.stream, "*", "record", "not json"])
        _ = try await redis.command(["XADD", keys.stream, "*", "record", String(repeating: "x", count: 1 << 20)])
        let refused = AuditAppend(id: "bad id!", calc: "1+1", result: 2)
        _ = try await redis.command(["XADD", keys.stream, "*", "record", refused.json])
        var settings = AuditOutbox.Settings()
        settings.claimAfter = .milliseconds(500)
        try await Harness.with { harness in
            _ = harness.audit.rejectIDs.withLock { $0.insert("bad id!") }
            try await harness.makeApp(outbox: Harness.outbox(redisPort: server.port, settings: settings)).app.test { client in
                #expect(try await client.submitAdd(first: "1", second: "2").status == .ok)
                let done = await eventually(timeout: .seconds(10)) { harness.audit.stored.count == 2 }
                #expect(done, "stored: \(harness.audit.stored.map(\.calc))")
                #expect(Set(harness.audit.stored.map(\.calc)) == ["40+2", "1+2"])
                #expect(await eventually { (try? await Self.length(redis)) == 0 }, "every entry settled")
                let dead = try await redis.command(["LRANGE", keys.dead, "0", "-1"]).array?.compactMap(\.string) ?? []
                #expect(dead.count == 4, "\(dead)")
                #expect(dead.contains { $0.contains("entry without a record") })
                #expect(dead.contains { $0.contains("malformed JSON") }, "auditservice's reason for a body it cannot read")
                #expect(dead.contains { $0.contains("over the limit") && $0.count < 1_000 }, "a bounded prefix, never the whole body")
                #expect(dead.contains { $0.contains("rejected") })
            }
        }
    }

    /// The dead-letter list's key holding another type makes every push to it fail; the poison
    /// entries must still leave the outbox (counted as lost) and the good ones be delivered.
    @Test func aDeadListThatRefusesPushesDoesNotWedgeDelivery() async throws {
        let server = try await RedisServer.start()
        let redis = Self.redis(server.port)
        let keys = AuditOutbox.Keys.standard
        _ = try await redis.command(["SET", keys.dead, "not a list"])
        _ = try await redis.command(["XGROUP", "CREATE", keys.stream, keys.group, "0", "MKSTREAM"])
        _ = try await redis.command(["XADD", keys.stream, "*", "something", "else"])  // dead-lettered by the read script
        _ = try await redis.command(["XADD", keys.stream, "*", "record", String(repeating: "x", count: 1 << 20)])
        _ = try await redis.command(["XADD", keys.stream, "*", "record", "not json"])  // refused by auditservice: settle's push
        let good = AuditAppend(id: "good-1", calc: "20+22", result: 42)
        _ = try await redis.command(["XADD", keys.stream, "*", "record", good.json])
        try await Harness.with { harness in
            try await harness.makeApp(outbox: Harness.outbox(redisPort: server.port, settings: Self.quickRetry)).app.test { client in
                #expect(try await client.submitAdd(first: "1", second: "2").status == .ok)
                let done = await eventually(timeout: .seconds(10)) { harness.audit.stored.count == 2 }
                #expect(done, "stored: \(harness.audit.stored.map(\.calc))")
                #expect(Set(harness.audit.stored.map(\.calc)) == ["20+22", "1+2"])
                #expect(await eventually { (try? await Self.length(redis)) == 0 }, "every entry left the outbox")
                let deadKey = try await redis.command(["GET", keys.dead]).string
                #expect(deadKey == "not a list")
            }
        }
    }

    @Test func recordsParkedByThePreviousDesignAreMovedIntoTheOutboxAndDelivered() async throws {
        let server = try await RedisServer.start()
        let redis = Self.redis(server.port)
        let parked = (1...3).map { AuditAppend(id: "parked-\($0)", calc: "\($0)+\($0)", result: Int64(2 * $0)).json }
        _ = try await redis.command(["RPUSH", AuditOutbox.Keys.standard.legacyParking] + parked)
        try await Harness.with { harness in
            try await harness.makeApp(outbox: Harness.outbox(redisPort: server.port)).app.test { _ in
                #expect(await eventually(timeout: .seconds(10)) { harness.audit.stored.count == 3 })
                #expect(Set(harness.audit.stored.map(\.calc)) == ["1+1", "2+2", "3+3"])
                let left = try await redis.command(["EXISTS", AuditOutbox.Keys.standard.legacyParking]).integer
                #expect(left == 0, "the parking list is gone")
            }
        }
    }
}
