import Contracts
import Discovery
import Foundation
import Logging
import NIOHTTP1
import RedisAdapter
import ServiceRuntime
import Synchronization
import TestSupport
import Testing

@testable import EventService
@testable import WebApp

/// Page events end to end: the webapp's recorder and sink, a real redis-server, the real
/// eventservice worker. Every page served is counted once, under its route.
@Suite(.serialized, .loadTest) struct EventIntegrityTests {
    /// The eventservice worker, run round by round so the test sees what each round did.
    final class CountingWorker: Sendable {
        let worker: EventWorker
        let duplicates = Atomic<Int>(0)
        let records = Atomic<Int>(0)
        private let task = Mutex<Task<Void, Never>?>(nil)

        init(port: Int) {
            let endpoint: RedisClient.Endpoint = { .init(host: "127.0.0.1", port: port) }
            let logger = Logger(label: "eventservice-test")
            worker = EventWorker(
                consumer: RedisClient(endpoint: endpoint, logger: logger, connectTimeout: .seconds(1), commandTimeout: .seconds(6)),
                monitor: RedisClient(endpoint: endpoint, logger: logger), logger: logger
            )
        }

        func start() {
            let started = Task {
                while !Task.isCancelled {
                    do {
                        let applied = try await self.worker.round()
                        self.duplicates.add(applied.duplicates, ordering: .relaxed)
                        self.records.add(applied.records, ordering: .relaxed)
                    } catch {
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                }
            }
            task.withLock { $0 = started }
        }

        func stop() async {
            let running = task.withLock { $0 }
            running?.cancel()
            await running?.value
        }
    }

    static func counts(_ redis: RedisConnection) async throws -> [String: Int] {
        let flat = try await redis.command(["HGETALL", EventKeys.standard.counts]).array ?? []
        var counts: [String: Int] = [:]
        for index in stride(from: 0, to: flat.count - 1, by: 2) {
            counts[flat[index].string ?? "?"] = Int(flat[index + 1].string ?? "") ?? -1
        }
        return counts
    }

    @Test func redisStalledSevenSecondsUnderBrowsingEveryPageIsCountedExactlyOnce() async throws {
        try await withCountedRedis { redis, counter, check, client in
            try await Harness.with { harness in
                var settings = EventRecorder.Settings()
                settings.backoff = Backoff(initial: .milliseconds(20), maximum: .milliseconds(500))
                let (app, _) = try harness.makeApp(sink: RedisEventSink(client: client), events: settings)
                try await app.test { web in
                    let served = Mutex<[String: Int]>([:])
                    let browsing = Task {
                        let paths = ["/", "/add", "/audit"]
                        var index = 0
                        let until = ContinuousClock.now + .seconds(11)
                        while ContinuousClock.now < until {
                            let path = paths[index % paths.count]
                            index += 1
                            if let response = try? await web.execute("GET", path), response.status == .ok {
                                served.withLock { $0[path, default: 0] += 1 }
                            }
                            try? await Task.sleep(for: .milliseconds(5))
                        }
                    }
                    try await Task.sleep(for: .seconds(2))
                    redis.signal(SIGSTOP)
                    try await Task.sleep(for: .seconds(7))
                    redis.signal(SIGCONT)
                    await browsing.value

                    let expected = served.withLock { $0 }
                    let total = expected.values.reduce(0, +)
                    let settled = await eventually(timeout: .seconds(30)) {
                        let counted = (try? await Self.counts(check).values.reduce(0, +)) ?? 0
                        let queued = try? await check.command(["LLEN", EventKeys.standard.queue]).integer
                        return counted >= total && queued == 0
                    }
                    try await Task.sleep(for: .seconds(1))  // anything counted twice would show by now
                    #expect(settled)
                    #expect(try await Self.counts(check) == expected, "pages served \(total)")
                    #expect(total > 300, "browsing went on during the stall: \(total) pages")
                    // The stall made the webapp resend (a timed-out push is run by Redis once it
                    // resumes, and again when resent); the ids made those copies harmless.
                    #expect(counter.duplicates.load(ordering: .relaxed) > 0, "no resend happened: the test proved nothing")
                    print(
                        "Redis stalled 7 s: \(total) pages served, \(total) counted, \(counter.duplicates.load(ordering: .relaxed)) resent copies ignored"
                    )
                }
            }
        }
    }

    @Test func tenThousandRequestsWithRandomHostsCountOnlyTheRoutes() async throws {
        try await withCountedRedis { _, _, check, client in
            try await Harness.with { harness in
                let (app, _) = try harness.makeApp(sink: RedisEventSink(client: client))
                try await app.test { web in
                    let port = web.port
                    let targets = ["/", "/add", "/add?x=\(UUID().uuidString)", "/nope/\(UUID().uuidString)"]
                    let requests = (0..<10_000).map { index in
                        let host = index.isMultiple(of: 2) ? "\(UUID().uuidString):\(index)" : "h\(UUID().uuidString).example"
                        return "GET \(targets[index % targets.count]) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\r\n"
                    }
                    let statuses = await RawHTTP.send(requests, port: port)
                    let pages = statuses.filter { $0 == 200 }.count
                    #expect(statuses.filter { $0 == 0 }.isEmpty, "every request answered")
                    #expect(pages == 7_500, "3 of 4 targets are pages")
                    let settled = await eventually(timeout: .seconds(30)) {
                        (try? await Self.counts(check).values.reduce(0, +)) ?? 0 >= pages
                    }
                    #expect(settled)
                    let counts = try await Self.counts(check)
                    #expect(Set(counts.keys).isSubset(of: WebAppRoutes.pagePaths.map(\.name)), "\(counts.keys.sorted().prefix(10))")
                    #expect(counts == ["/": 2_500, "/add": 5_000], "\(counts)")
                    let summary = summaryRequest()
                    _ = try await check.command(["LPUSH", EventKeys.standard.queue, summary.message])
                    let reply = try await check.command(["BLPOP", summary.returnPath, "10"]).array?.last?.string ?? ""
                    #expect(reply.utf8.count < 100, "the report stays short: \(reply)")
                }
            }
        }
    }

    /// A Redis with `CountingWorker` draining its queue, a connection to look inside it, and the
    /// webapp's client to it. The worker stops however `body` ends.
    private func withCountedRedis(
        _ body: (_ redis: ServerProcess, _ counter: CountingWorker, _ check: RedisConnection, _ client: RedisClient) async throws -> Void
    ) async throws {
        let redis = try await RedisServer.start()
        let counter = CountingWorker(port: redis.port)
        counter.start()
        let check = try await RedisConnection.connect(
            host: "127.0.0.1", port: redis.port, connectTimeout: .seconds(10), commandTimeout: .seconds(10))
        defer { check.close() }
        let client = RedisClient(endpoint: { .init(host: "127.0.0.1", port: redis.port) }, logger: Logger(label: "webapp-redis"))
        do {
            try await body(redis, counter, check, client)
        } catch {
            await counter.stop()
            throw error
        }
        await counter.stop()
    }
}

func summaryRequest() -> (message: String, returnPath: String) {
    let path = EventQueueContract.replyPath(suffix: UUID().uuidString)
    return (EventQueueContract.summaryMessage(returnPath: path), path)
}
