import Discovery
import Foundation
import Logging
import ProcessSupervision
import TestSupport
import Testing

@testable import RedisAdapter

@Suite("RedisClient reconnects", .stopsServers)
struct RedisClientTests {
    @Test func recoversAfterRedisRestarts() async throws {
        let redis = try await RedisServer.start()
        let port = redis.port
        let client = RedisClient(endpoint: { .init(host: "127.0.0.1", port: port) }, logger: Logger(label: "test"))
        #expect(try await client.command(["SET", "before", "1"]) == .status("OK"))

        try await redis.restart()

        // The old connection is dead; the client reconnects and retries within this call.
        #expect(try await client.command(["SET", "after", "2"]) == .status("OK"))
        #expect(try await client.pipeline([["GET", "after"], ["GET", "before"]]) == [.bulk("2"), .null])
        await client.close()
    }

    @Test func resolvesTheEndpointAgainBeforeReconnecting() async throws {
        let first = try await RedisServer.start()
        let second = try await RedisServer.start()
        let target = Locked(first.port)
        let lookups = Locked(0)
        let client = RedisClient(
            endpoint: {
                lookups.withLock { $0 += 1 }
                return .init(host: "127.0.0.1", port: target.withLock { $0 })
            },
            logger: Logger(label: "test")
        )
        _ = try await client.command(["SET", "where", "first"])

        target.withLock { $0 = second.port }  // Redis "moved": DNS now answers the second server
        await first.stop()

        _ = try await client.command(["SET", "where", "second"])
        let connection = try await RedisConnection.connect(
            host: "127.0.0.1", port: second.port, connectTimeout: .seconds(2), commandTimeout: .seconds(2))
        defer { connection.close() }
        #expect(try await connection.command(["GET", "where"]) == .bulk("second"))
        #expect(lookups.withLock { $0 } == 2)
        await client.close()
    }

    @Test func connectionErrorSurfacesWhenRedisStaysAway() async throws {
        let redis = try await RedisServer.start()
        let port = redis.port
        let client = RedisClient(endpoint: { .init(host: "127.0.0.1", port: port) }, logger: Logger(label: "test"))
        _ = try await client.command(["PING"])
        await redis.stop()

        let error = await #expect(throws: RedisError.self) { try await client.command(["PING"]) }
        #expect(error?.isConnectionError == true)
        // Redis back: the next call connects again.
        try await redis.restart()
        #expect(try await client.command(["PING"]) == .status("PONG"))
        await client.close()
    }

    @Test func endpointFailureIsAConnectionError() async throws {
        struct NoRedis: Error, CustomStringConvertible { var description: String { "no SRV record" } }
        let client = RedisClient(endpoint: { throw NoRedis() }, logger: Logger(label: "test"))
        let error = await #expect(throws: RedisError.self) { try await client.command(["PING"]) }
        #expect(error?.isConnectionError == true)
        #expect(error?.message.contains("no SRV record") == true)
    }

    @Test func replyErrorsAreNotRetriedAsConnectionErrors() async throws {
        let redis = try await RedisServer.start()
        let port = redis.port
        let client = RedisClient(endpoint: { .init(host: "127.0.0.1", port: port) }, logger: Logger(label: "test"))
        let error = await #expect(throws: RedisError.self) { try await client.command(["NOSUCHCOMMAND"]) }
        #expect(error?.kind == .reply)
        #expect(try await client.command(["PING"]) == .status("PONG"))
        await client.close()
    }

    @Test func concurrentCallersShareTheClient() async throws {
        let redis = try await RedisServer.start()
        let port = redis.port
        let client = RedisClient(endpoint: { .init(host: "127.0.0.1", port: port) }, logger: Logger(label: "test"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<16 {
                group.addTask { for _ in 0..<50 { _ = try await client.command(["INCR", "shared"]) } }
            }
            try await group.waitForAll()
        }
        #expect(try await client.command(["GET", "shared"]) == .bulk("800"))
        await client.close()
    }
}
