import Discovery
import Logging
import NIOHTTP1
import RedisAdapter
import ServiceRuntime
import TestSupport
import Testing

@testable import EventService

/// The eventservice's HTTP side in process, its admin port (its only one): health, readiness
/// against a real Redis, metrics.
@Suite(.stopsServers) struct EventServiceRoutesTests {
    func runtime() -> ServiceRuntime {
        ServiceRuntime(config: .init(service: .eventservice, metricsPort: 0, logLevel: .warning))
    }

    func get(_ port: Int, _ path: String) async throws -> (Int, String) {
        let response = try await TestHTTPClient(port: port).get(path)
        return (Int(response.status.code), response.text)
    }

    @Test func readyWhenRedisAnswersAndNotWhenItIsAway() async throws {
        let redis = try await RedisServer.start()
        let port = redis.port
        let app = buildApplication(runtime: runtime(), endpoint: { .init(host: "127.0.0.1", port: port) })
        try await app.withRunning { ports in
            #expect(ports.main == nil, "no port of its own")
            let port = ports.metrics
            let (healthy, _) = try await get(port, "/healthz")
            #expect(healthy == 200)
            let (ready, body) = try await get(port, "/readyz")
            #expect(ready == 200, "\(body)")

            await redis.stop()
            let (notReady, reason) = try await get(port, "/readyz")
            #expect(notReady == 503)
            #expect(reason.contains("redis"))
        }
    }

    @Test func metricsCountProcessedAndDeadLetteredEvents() async throws {
        Observability.bootstrap()  // swift-metrics series reach /metrics only through the process's backend
        let redis = try await RedisServer.start()
        let port = redis.port
        let harness = try await WorkerHarness(port: port, startWorker: false)
        // The application's own worker (run beside the router) consumes these.
        let app = buildApplication(runtime: runtime(), endpoint: { .init(host: "127.0.0.1", port: port) })
        let text = try await app.withRunning { ports in
            try await harness.push([recordMessage("http://m/"), "garbage", recordMessage("http://m/")])
            try await harness.waitUntilCounted(2)
            try await waitUntil(timeout: .seconds(10), "the dead letter") { try await harness.length(harness.keys.dead) == 1 }
            return try await TestHTTPClient(port: ports.metrics).get("/metrics").text
        }
        // Other suites in this process count too, so at least what this test did.
        #expect(metric("eventservice_events_processed_total", in: text) >= 2)
        #expect(metric("eventservice_events_dead_lettered_total", in: text) >= 1)
        #expect(text.contains("eventservice_queue_depth"))
    }

    private func metric(_ name: String, in text: String) -> Double {
        let line = text.split(separator: "\n").first { $0.hasPrefix(name + " ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? -1
    }
}
