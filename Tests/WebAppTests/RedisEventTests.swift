import Discovery
import Foundation
import Logging
import NIOHTTP1
import RedisAdapter
import ServiceRuntime
import TestSupport
import Testing

@testable import WebApp

/// Page events against a real redis-server on loopback.
@Suite(.stopsServers) struct RedisEventTests {
    static func client(_ redis: ServerProcess) -> RedisClient {
        RedisClient(endpoint: { .init(host: "127.0.0.1", port: redis.port) }, logger: Logger(label: "redis-test"))
    }

    /// The list's messages, oldest first (LPUSH puts the newest at the head).
    static func urls(_ client: RedisClient) async throws -> [String] {
        guard case .array(let values) = try await client.command(["LRANGE", RedisEventSink.listKey, "0", "-1"]) else { return [] }
        return values.reversed().compactMap { value in
            guard case .bulk(let message) = value else { return nil }
            return EventRecorderTests.url(of: message)
        }
    }

    static func length(_ client: RedisClient) async -> Int64 {
        guard case .integer(let length) = try? await client.command(["LLEN", RedisEventSink.listKey]) else { return -1 }
        return length
    }

    @Test func everyPageRequestBecomesExactlyOneEvent() async throws {
        let redis = try await RedisServer.start()
        let client = Self.client(redis)
        try await Harness.with { harness in
            let (app, _) = try harness.makeApp(sink: RedisEventSink(client: client))
            let paths = (1...10).flatMap { _ in ["/", "/add", "/audit"] }
            try await app.test { web in
                for path in paths {
                    let response = try await web.get(path)
                    #expect(response.status == .ok)
                }
                let arrived = await eventually { await Self.length(client) == Int64(paths.count) }
                #expect(arrived)
                try await Task.sleep(for: .milliseconds(100))
                let urls = try await Self.urls(client)
                #expect(urls == paths)
            }
        }
    }

    @Test func pagesStayFastWhileRedisIsDownAndTheEventsArriveWhenItReturns() async throws {
        let redis = try await RedisServer.start()
        let client = Self.client(redis)
        try await Harness.with { harness in
            var settings = EventRecorder.Settings()
            settings.backoff = Backoff(initial: .milliseconds(20), maximum: .milliseconds(200))
            let (app, _) = try harness.makeApp(sink: RedisEventSink(client: client), events: settings)
            try await app.test { web in
                let first = try await web.get("/")
                #expect(first.status == .ok)
                let firstArrived = await eventually { await Self.length(client) == 1 }
                #expect(firstArrived)
                await redis.stop()

                let clock = ContinuousClock()
                var slowest = Duration.zero
                for index in 1...20 {
                    let path = index.isMultiple(of: 2) ? "/add" : "/"
                    let start = clock.now
                    let response = try await web.get(path)
                    let elapsed = start.duration(to: clock.now)
                    #expect(response.status == .ok)
                    slowest = max(slowest, elapsed)
                }
                // Alone this is a few ms; the bound leaves room for a loaded machine running the
                // suite in parallel (chromium included), far below any Redis timeout (2 s).
                #expect(slowest < .seconds(1), "slowest page while Redis was down: \(slowest)")

                try await redis.restart()
                let arrived = await eventually(timeout: .seconds(10)) { await Self.length(client) == 20 }
                let length = await Self.length(client)
                #expect(arrived, "events in Redis after restart: \(length)")
                let urls = try await Self.urls(client)
                #expect(urls == (1...20).map { $0.isMultiple(of: 2) ? "/add" : "/" })
            }
        }
    }
}
