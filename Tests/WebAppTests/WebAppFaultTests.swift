import Foundation
import Logging
import MongoAdapter
import NIOHTTP1
import RedisAdapter
import Synchronization
import TestSupport
import Testing

@testable import WebApp

#if canImport(Glibc)
import Glibc
#endif

/// The faults a pod meets, on real processes: the built webapp, adderservice, auditservice and
/// eventservice, nx-27017, and redis-server with its append-only file synced every second, as the
/// manifests run it. A webapp killed outright (SIGKILL: an OOM kill, a node lost) or stopped
/// while auditservice hangs loses no calculation it answered, and stores none twice.
@Suite(.serialized, .loadTest) struct WebAppFaultTests {
    /// Everything but the webapp, which each test starts (and kills) itself.
    struct System {
        let mongo: ServerProcess
        let redis: ServerProcess
        let adder: ServerProcess
        let audit: ServerProcess

        init() async throws {
            mongo = try await MongoServer.start()
            redis = try await DurableRedisServer.start(fsync: "everysec")
            adder = try await ServiceProcess.start("adderservice", logLevel: "warning")
            audit = try await ServiceProcess.start("auditservice", finding: ["mongo": mongo.port], logLevel: "warning")
        }

        func startWebapp() async throws -> ServerProcess {
            let webapp = try await ServiceProcess.start(
                "webapp", finding: ["adderservice": adder.port, "auditservice": audit.port, "redis": redis.port], logLevel: "warning"
            )
            let ready = await eventually(timeout: .seconds(20)) {
                (try? await TestHTTPClient(port: webapp.metricsPort).get("/readyz"))?.status == .ok
            }
            guard ready else { throw TestSupportError("webapp never ready:\n\(webapp.log())") }
            return webapp
        }

        /// Every stored record's calc, duplicates included, read from MongoDB itself.
        func storedCalcs() async throws -> [String] {
            let pool = try MongoClientPool(uri: "mongodb://127.0.0.1:\(mongo.port)/?serverSelectionTimeoutMS=5000")
            return try await pool.collection("audit", database: "audit").find(projection: ["calc": .int32(1)]).compactMap {
                $0["calc"]?.stringValue
            }
        }

        /// Waits until every calc in `shown` is stored (or the time is up), then a moment for a
        /// late duplicate, and returns what is stored.
        func waitForStored(_ shown: Set<String>, timeout: Duration) async throws -> [String] {
            _ = await eventually(timeout: timeout, poll: .milliseconds(500)) {
                Set((try? await storedCalcs()) ?? []).isSuperset(of: shown)
            }
            try await Task.sleep(for: .seconds(1))
            return try await storedCalcs()
        }
    }

    /// Operands for calculations, unique across rounds, and the switch that stops the clients.
    final class Load: Sendable {
        let numbers = Atomic<Int>(0)
        let stopped = Atomic<Bool>(false)
        let answered = Atomic<Int>(0)
    }

    /// `clients` loops submitting calculations with fresh operands until the load is stopped;
    /// returns the calcs whose page showed the result.
    static func calculateUntilStopped(port: Int, clients: Int, load: Load) async -> [String] {
        await withTaskGroup(of: [String].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    let client = TestHTTPClient(port: port)
                    var shown: [String] = []
                    while !load.stopped.load(ordering: .relaxed) {
                        let first = load.numbers.add(1, ordering: .relaxed).newValue
                        // A refused connect fails without suspending: pause, or the loop holds its thread.
                        guard let page = try? await client.submitAdd(first: "\(first)", second: "1000000") else {
                            try? await Task.sleep(for: .milliseconds(10))
                            continue
                        }
                        if page.status == .ok, page.text.contains("<strong>\(first + 1_000_000)</strong>") {
                            shown.append("\(first)+1000000")
                        }
                    }
                    return shown
                }
            }
            var all: [String] = []
            for await part in group { all += part }
            return all
        }
    }

    @Test func aWebappKilledAtARandomInstantUnderLoadLosesNoAnsweredCalculation() async throws {
        let system = try await System()
        var shown: [String] = []
        var numbers = 0
        for round in 1...3 {
            let webapp = try await system.startWebapp()
            let load = Load()
            load.numbers.store(numbers, ordering: .relaxed)
            async let answered = Self.calculateUntilStopped(port: webapp.port, clients: 20, load: load)
            let instant = Duration.milliseconds(Int.random(in: 500...2_500))
            try await Task.sleep(for: instant)
            await webapp.kill9()
            load.stopped.store(true, ordering: .relaxed)
            let part = await answered
            numbers = load.numbers.load(ordering: .relaxed)
            print("SIGKILL round \(round) after \(instant): \(part.count) calculations answered")
            shown += part
        }
        let survivor = try await system.startWebapp()
        let stored = try await system.waitForStored(Set(shown), timeout: .seconds(90))
        #expect(!shown.isEmpty)
        #expect(
            Set(stored).isSuperset(of: Set(shown)), "answered but not stored: \(Set(shown).subtracting(stored).count) of \(shown.count)")
        #expect(Set(stored).count == stored.count, "stored twice: \(stored.count - Set(stored).count)")
        print("SIGKILL ×3: \(shown.count) calculations answered, \(stored.count) stored (the rest were cut off before their page)")
        await survivor.stop()
    }

    @Test func aWebappStoppedWhileAuditserviceHangsExitsInTimeAndLosesNothing() async throws {
        let system = try await System()
        let webapp = try await system.startWebapp()
        let load = Load()
        async let answered = Self.calculateUntilStopped(port: webapp.port, clients: 20, load: load)
        try await Task.sleep(for: .seconds(1))
        system.audit.signal(SIGSTOP)
        try await Task.sleep(for: .seconds(2))
        let clock = ContinuousClock()
        let signalled = clock.now
        webapp.signal(SIGTERM)
        let status = await webapp.waitForExit(timeout: .seconds(20))
        let exitedAfter = signalled.duration(to: clock.now)
        load.stopped.store(true, ordering: .relaxed)
        let shown = await answered
        system.audit.signal(SIGCONT)
        print(
            "auditservice hung, webapp SIGTERM: exit \(String(describing: status)) after \(exitedAfter), \(shown.count) calculations answered"
        )
        #expect(status == 0, "\(webapp.log().suffix(2_000))")
        #expect(exitedAfter < .seconds(12), "the pod's budget is 13 s (20 s grace less the 7 s preStop)")

        let next = try await system.startWebapp()
        let stored = try await system.waitForStored(Set(shown), timeout: .seconds(90))
        #expect(
            Set(stored).isSuperset(of: Set(shown)), "answered but not stored: \(Set(shown).subtracting(stored).count) of \(shown.count)")
        #expect(Set(stored).count == stored.count, "stored twice: \(stored.count - Set(stored).count)")
        await next.stop()
    }

    /// Page views are pushed a few milliseconds after their page, so a webapp killed outright loses
    /// those still in its buffer: never more than the buffer holds (README), and none counted twice.
    @Test func aWebappKilledUnderLoadLosesAtMostItsBufferedPageViews() async throws {
        let system = try await System()
        let events = try await ServiceProcess.start("eventservice", finding: ["redis": system.redis.port], logLevel: "warning")
        let webapp = try await system.startWebapp()
        let load = Load()
        async let clients: Void = withTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    let client = TestHTTPClient(port: webapp.port)
                    while !load.stopped.load(ordering: .relaxed) {
                        if (try? await client.get("/add"))?.status == .ok {
                            load.answered.add(1, ordering: .relaxed)
                        } else {
                            try? await Task.sleep(for: .milliseconds(10))  // as above
                        }
                    }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(Int.random(in: 1_000...2_500)))
        await webapp.kill9()
        load.stopped.store(true, ordering: .relaxed)
        await clients
        let redis = AuditOutboxTests.redis(system.redis.port)
        let drained = await eventually(timeout: .seconds(30)) {
            let waiting = try? await redis.command(["LLEN", "eventservice"]).integer
            let taken = try? await redis.command(["LLEN", "eventservice:processing"]).integer
            return waiting == 0 && taken == 0
        }
        #expect(drained, "\(events.log().suffix(2_000))")
        let counted = Int(try await redis.command(["HGET", "eventservice:counts", "/add"]).string ?? "0") ?? 0
        let pages = load.answered.load(ordering: .relaxed)
        print("page views under SIGKILL: \(pages) answered, \(counted) counted, \(pages - counted) lost")
        // A page view is recorded before its page is written: the 20 requests in flight at the
        // kill may be counted without their answer having arrived.
        #expect(counted <= pages + 20, "page views counted twice")
        #expect(pages - counted <= EventRecorder.Settings().capacity, "more lost than the buffer holds")
        #expect(pages > 200, "the load proved nothing")
    }
}
