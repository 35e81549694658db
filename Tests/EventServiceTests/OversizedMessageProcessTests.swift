import Contracts
import Foundation
import TestSupport
import Testing

@testable import EventService
@testable import RedisAdapter

/// Messages of any size against the built `eventservice`, with redis-server run as the manifests
/// run it (deployment/base/redis.yml: append-only file, fsync every second).
@Suite("eventservice process: messages of any size", .stopsServers)
struct OversizedMessageProcessTests {
    /// redis-server with deployment/base/redis.yml's persistence settings.
    static func manifestRedis(port: Int = Ports.free()) async throws -> ServerProcess {
        try await ServerProcess(
            name: "redis-aof-\(port)", executable: try TestPaths.tool("redis-server"),
            arguments: [
                "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
                "--dir", TestPaths.temporaryDirectory(prefix: "redis-aof"), "--protected-mode", "no",
            ],
            port: port
        )
    }

    /// A 1 MB record that looks valid.
    static let bigRecord = recordMessage("/" + String(repeating: "a", count: 1_000_000))
    static let notJSONBytes = 90_000_000

    /// LPUSHes 90 MB that is not JSON (NUL bytes, which a JSON envelope escapes six-fold; made
    /// by Redis with SETRANGE, quicker than sending them), then the 1 MB record. On a connection
    /// of its own with a long timeout: a busy machine may take seconds over 90 MB.
    static func pushPoison(_ harness: WorkerHarness) async throws {
        let setup = try await RedisConnection.connect(
            host: "127.0.0.1", port: harness.port, connectTimeout: .seconds(5), commandTimeout: .seconds(60)
        )
        defer { setup.close() }
        _ = try await setup.command(["SETRANGE", "poison", "\(notJSONBytes - 1)", "\u{0}"])
        _ = try await setup.command([
            "EVAL", "redis.call('LPUSH', KEYS[2], redis.call('GET', KEYS[1])) return redis.call('DEL', KEYS[1])",
            "2", "poison", harness.keys.queue,
        ])
        _ = try await setup.command(["LPUSH", harness.keys.queue, bigRecord])
    }

    @Test func oversizedMessagesNeverReachTheWorkerAndTheNextEventIsCountedWithinTwoSeconds() async throws {
        let redis = try await Self.manifestRedis()
        let harness = try await WorkerHarness(port: redis.port, startWorker: false)
        // Queued before the service starts: the take script meets them in the queue.
        try await Self.pushPoison(harness)
        let service = try await ServiceProcess.start("eventservice", finding: ["redis": redis.port], logLevel: "info")
        // Start-up (DNS, connecting) is not part of the 2 s.
        let ready = await eventually(timeout: .seconds(10)) { (try? await httpGet(port: service.metricsPort, path: "/readyz").0) == 200 }
        #expect(ready, "\(service.log())")
        try await Self.expectNextEventCounted(harness, total: 1, service)
        // Queued while it waits in BLMOVE, whose reply would carry them.
        try await Task.sleep(for: .milliseconds(200))
        try await Self.pushPoison(harness)
        try await Self.expectNextEventCounted(harness, total: 2, service)

        let letters = try await harness.redis.command(["LRANGE", harness.keys.dead, "0", "-1"]).array ?? []
        #expect(letters.count == 4)
        for letter in letters {
            let text = letter.string ?? ""
            // 256 bytes of prefix, each escaped to at most 6 ("\u0000"), and the other fields.
            #expect(text.utf8.count < 2048, "a dead letter keeps a bounded prefix, never the body")
            let object = try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(object["reason"] as? String == "larger than 65536 bytes")
            let prefix = EventQueueContract.deadLetterPrefixBytes
            switch object["size"] as? Int {
            case Self.notJSONBytes: #expect(object["prefix"] as? String == String(repeating: "\u{0}", count: prefix))
            case Self.bigRecord.utf8.count: #expect(object["prefix"] as? String == String(Self.bigRecord.prefix(prefix)))
            case let size: Issue.record("a dead letter of size \(String(describing: size))")
            }
        }
        #expect(try await harness.length(harness.keys.processing) == 0)
        #expect(try await harness.length(harness.keys.queue) == 0)

        let peak = try #require(Self.highWaterMark(pid: service.pid), "no VmHWM for pid \(service.pid)")
        print("eventservice VmHWM after 2 × (90 MB + 1 MB) messages: \(peak / 1024) KiB")
        #expect(peak < 64 * 1024 * 1024, "peak RSS \(peak / 1024 / 1024) MB")
        await service.stop()
    }

    /// Pushes one ordinary event; it must be counted within 2 s.
    static func expectNextEventCounted(_ harness: WorkerHarness, total: Int, _ service: ServerProcess) async throws {
        try await harness.push([recordMessage("/next")])
        let pushed = ContinuousClock.now
        try await waitUntil(timeout: .seconds(2), "event \(total) counted\n\(service.log())") {
            try await harness.counts()["/next"] == total
        }
        print("event \(total) counted \(ContinuousClock.now - pushed) after its push")
    }

    /// The process's peak resident set (VmHWM), in bytes.
    static func highWaterMark(pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
        let kilobytes = line?.split(whereSeparator: \.isWhitespace).dropFirst().first.flatMap { Int($0) }
        return kilobytes.map { $0 * 1024 }
    }
}
