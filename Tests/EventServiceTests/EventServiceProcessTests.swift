import Foundation
import NIOHTTP1
import TestSupport
import Testing

@testable import EventService

/// The built `eventservice` executable, finding Redis through DNS (dnsmasq) like in the cluster.
@Suite("eventservice process", .stopsServers)
struct EventServiceProcessTests {
    /// redis-server, and the service finding it through DNS, on one admin port across restarts.
    struct Environment {
        let redis: ServerProcess
        let metricsPort = Ports.free()

        init() async throws {
            redis = try await RedisServer.start()
        }

        func startEventService() async throws -> ServerProcess {
            try await ServiceProcess.start("eventservice", finding: ["redis": redis.port], metricsPort: metricsPort, logLevel: "info")
        }
    }

    @Test(.loadTest) func killedWithSIGKILLMidStreamThenRestartedTotalsAreExact() async throws {
        let environment = try await Environment()
        let harness = try await WorkerHarness(port: environment.redis.port, startWorker: false)
        let (messages, expected) = recordStream(count: 50_000, urls: 40)
        try await harness.push(messages)

        let first = try await environment.startEventService()
        try await waitUntil(timeout: .seconds(60), "the first events counted") {
            try await harness.counts().values.reduce(0, +) >= 3_000
        }
        await first.kill9()
        let countedAtKill = try await harness.counts().values.reduce(0, +)
        #expect(countedAtKill < 50_000, "the kill should land mid-stream")

        let second = try await environment.startEventService()
        try await harness.waitUntilCounted(50_000, timeout: .seconds(120))
        #expect(try await harness.counts() == expected, "\(second.log())")
        #expect(try await harness.length(harness.keys.dead) == 0)
        await second.stop()
    }

    @Test func readinessAnswersWithinItsLimitWhileRedisIsStalled() async throws {
        let environment = try await Environment()
        let service = try await environment.startEventService()
        let (ready, _) = try await httpGet(port: environment.metricsPort, path: "/readyz")
        #expect(ready == 200)
        try await StalledDependency.expectUnreadyInTime(service, whileStalled: environment.redis)
        let back = await eventually(timeout: .seconds(15)) { (try? await httpGet(port: environment.metricsPort, path: "/readyz").0) == 200 }
        #expect(back, "ready again once Redis resumes")
    }

    @Test func servesReadinessAndStopsCleanlyOnSIGTERM() async throws {
        let environment = try await Environment()
        let service = try await environment.startEventService()
        let (status, body) = try await httpGet(port: environment.metricsPort, path: "/readyz")
        #expect(status == 200, "\(body)\n\(service.log())")

        service.signal(SIGTERM)
        #expect(await service.waitForExit(timeout: .seconds(10)) == 0, "\(service.log())")
    }
}

/// One GET on loopback: status and body. The socket is read on a thread of its own
/// (`TestHTTPClient`), never on the cooperative pool, and gives up after 10 s.
func httpGet(port: Int, path: String) async throws -> (Int, String) {
    let response = try await TestHTTPClient(port: port).get(path)
    return (Int(response.status.code), response.text)
}
