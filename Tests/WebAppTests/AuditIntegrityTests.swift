import Discovery
import Foundation
import Logging
import MongoAdapter
import NIOHTTP1
import RedisAdapter
import TestSupport
import Testing

@testable import WebApp

/// Calculations into the audit history end to end: the webapp's recorder, the built
/// auditservice (finding nx-27017 through dnsmasq, as in the local environment) and nx-27017.
/// Every calculation shown is stored exactly once, through stalls, overload and restarts.
@Suite(.serialized, .loadTest) struct AuditIntegrityTests {
    /// nx-27017 and the auditservice executable finding it through dnsmasq.
    struct AuditEnvironment {
        let mongo: ServerProcess
        let service: ServerProcess

        init(logLevel: String = "warning") async throws {
            mongo = try await MongoServer.start()
            service = try await ServiceProcess.start("auditservice", finding: ["mongo": mongo.port], logLevel: logLevel)
            let port = service.metricsPort
            let ready = await eventually(timeout: .seconds(30)) {
                await RawHTTP.send(["GET /readyz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"], port: port, connections: 1) == [200]
            }
            guard ready else { throw TestSupportError("auditservice never ready:\n\(service.log())") }
        }

        var target: ServiceTarget { ServiceTarget(host: "127.0.0.1", port: service.port) }

        /// Every stored record's calc, read from MongoDB itself (duplicates included).
        func storedCalcs() async throws -> [String] {
            let pool = try MongoClientPool(uri: "mongodb://127.0.0.1:\(mongo.port)/?serverSelectionTimeoutMS=5000")
            let documents = try await pool.collection("audit", database: "audit").find(projection: ["calc": .int32(1)])
            return documents.compactMap { $0["calc"]?.stringValue }
        }
    }

    /// Submits the add form `count` times, `concurrency` at a time, each with its own operands
    /// (`<n>+1000000`); returns the calcs the pages showed a result for.
    static func calculate(
        _ web: TestHTTPClient, count: Int, from start: Int = 0, concurrency: Int, pause: Duration = .zero
    ) async -> [String] {
        await withTaskGroup(of: [String].self) { group in
            for worker in 0..<concurrency {
                group.addTask {
                    var shown: [String] = []
                    for index in stride(from: start + worker, to: start + count, by: concurrency) {
                        if let page = try? await web.submitAdd(first: "\(index)", second: "1000000"), page.status == .ok {
                            shown.append("\(index)+1000000")
                        }
                        if pause > .zero { try? await Task.sleep(for: pause) }
                    }
                    return shown
                }
            }
            var all: [String] = []
            for await part in group { all += part }
            return all
        }
    }

    /// Waits until MongoDB holds `count` records (or the time is up) and returns them.
    static func waitForStored(_ environment: AuditEnvironment, count: Int, timeout: Duration) async throws -> [String] {
        _ = await eventually(timeout: timeout, poll: .milliseconds(500)) {
            ((try? await environment.storedCalcs())?.count ?? 0) >= count
        }
        try await Task.sleep(for: .seconds(1))  // a late duplicate would show by now
        return try await environment.storedCalcs()
    }

    /// A log line's `name=value` field's value.
    static func field(_ name: String, of line: Substring) -> Substring? {
        line.split(separator: " ").first { $0.hasPrefix(name + "=") }?.dropFirst(name.count + 1)
    }

    @Test func mongoStalledTwentySecondsUnderCalculationsEveryCalculationIsStoredOnce() async throws {
        let environment = try await AuditEnvironment(logLevel: "info")
        let redis = try await RedisServer.start()
        try await Harness.with { harness in
            let (app, _) = try harness.makeApp(auditTargets: [environment.target], outbox: Harness.outbox(redisPort: redis.port))
            try await app.test { web in
                let stall = Task {
                    try await Task.sleep(for: .seconds(3))
                    environment.mongo.signal(SIGSTOP)
                    try await Task.sleep(for: .seconds(20))
                    environment.mongo.signal(SIGCONT)
                }
                // About 26 s of calculations at ~40/s: before, during and after the stall.
                let shown = await Self.calculate(web, count: 1_040, concurrency: 4, pause: .milliseconds(100))
                try await stall.value
                let stored = try await Self.waitForStored(environment, count: shown.count, timeout: .seconds(60))
                #expect(shown.count == 1_040)
                #expect(stored.count == shown.count, "calculations \(shown.count), records \(stored.count)")
                #expect(Set(stored).count == stored.count, "no record twice")
                #expect(Set(stored) == Set(shown), "no record missing")
                // One log line per request: some appends were answered only after the webapp's
                // 3 s deadline, or failed, so their records were sent again.
                let appends = environment.service.log().split(separator: "\n").filter { $0.contains("path=/append") }
                let stalled = appends.filter { line in
                    !(Self.field("status", of: line)?.hasPrefix("2") ?? true)
                        || (Self.field("ms", of: line).flatMap { Double($0) } ?? 0) >= 3000
                }
                #expect(!stalled.isEmpty, "no append met the stall: the test proved nothing")
                print(
                    "Mongo stalled 20 s: \(shown.count) calculations, \(stored.count) records, \(appends.count) appends, \(stalled.count) stalled"
                )
            }
        }
    }

    @Test func tenThousandCalculationsAtFullSpeedAreAllInTheHistory() async throws {
        let environment = try await AuditEnvironment()
        let redis = try await RedisServer.start()
        try await Harness.with { harness in
            let (app, _) = try harness.makeApp(auditTargets: [environment.target], outbox: Harness.outbox(redisPort: redis.port))
            try await app.test { web in
                let clock = ContinuousClock()
                let started = clock.now
                let shown = await Self.calculate(web, count: 10_000, concurrency: 64)
                let calculated = clock.now - started
                let stored = try await Self.waitForStored(environment, count: 10_000, timeout: .seconds(60))
                let total = clock.now - started
                print("10,000 calculations: pages in \(calculated), all stored after \(total)")
                #expect(shown.count == 10_000)
                #expect(stored.count == 10_000)
                #expect(Set(stored) == Set(shown))
                let outbox = AuditOutboxTests.redis(redis.port)
                #expect(await eventually { (try? await AuditOutboxTests.length(outbox)) == 0 }, "the outbox is empty again")
            }
        }
    }
}
