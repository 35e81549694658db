import Foundation
import TestSupport
import Testing

@testable import RedisAdapter

@Suite("RedisConnection against a real redis-server", .stopsServers)
struct RedisConnectionTests {
    @Test func commandsReturnEachReplyKind() async throws {
        let redis = try await RedisServer.start()
        let connection = try await RedisConnection.connect(
            host: "127.0.0.1", port: redis.port, connectTimeout: .seconds(2), commandTimeout: .seconds(2))
        defer { connection.close() }

        #expect(try await connection.command(["SET", "greeting", "hello"]) == .status("OK"))
        #expect(try await connection.command(["GET", "greeting"]) == .bulk("hello"))
        #expect(try await connection.command(["GET", "missing"]) == .null)
        #expect(try await connection.command(["INCRBY", "counter", "41"]) == .integer(41))
        #expect(try await connection.command(["RPUSH", "list", "a", "b", ""]) == .integer(3))
        #expect(try await connection.command(["LRANGE", "list", "0", "-1"]) == .array([.bulk("a"), .bulk("b"), .bulk("")]))
    }

    @Test func binaryAndUnicodeValuesRoundTripUnchanged() async throws {
        let redis = try await RedisServer.start()
        let connection = try await RedisConnection.connect(
            host: "127.0.0.1", port: redis.port, connectTimeout: .seconds(2), commandTimeout: .seconds(2))
        defer { connection.close() }
        let key = "key with spaces\r\n and ümlauts"
        let value = "nul\u{0}inside\r\n*3\r\n$3\r\nfake protocol 😀 ünïcødé 日本語"

        _ = try await connection.command(["SET", key, value])
        #expect(try await connection.command(["GET", key]) == .bulk(value))
        #expect(try await connection.command(["STRLEN", key]) == .integer(Int64(value.utf8.count)))
    }

    @Test func errorRepliesThrowReplyErrorsAndLeaveTheConnectionUsable() async throws {
        let redis = try await RedisServer.start()
        let connection = try await RedisConnection.connect(
            host: "127.0.0.1", port: redis.port, connectTimeout: .seconds(2), commandTimeout: .seconds(2))
        defer { connection.close() }
        _ = try await connection.command(["SET", "text", "not a number"])

        let error = await #expect(throws: RedisError.self) { try await connection.command(["INCR", "text"]) }
        #expect(error?.kind == .reply)
        #expect(error?.isConnectionError == false)
        #expect(error?.message.contains("not an integer") == true)
        await #expect(throws: RedisError(.usage, "empty command")) { try await connection.command([]) }
        #expect(try await connection.command(["PING"]) == .status("PONG"))
    }

    @Test func pipelineIsOneBatchWithErrorsInPlace() async throws {
        let redis = try await RedisServer.start()
        let connection = try await RedisConnection.connect(
            host: "127.0.0.1", port: redis.port, connectTimeout: .seconds(2), commandTimeout: .seconds(2))
        defer { connection.close() }
        _ = try await connection.command(["SET", "text", "x"])

        let increments = Array(repeating: ["INCR", "n"], count: 1000)
        let replies = try await connection.pipeline(increments + [["INCR", "text"], ["GET", "n"]])
        #expect(replies.count == 1002)
        #expect(replies.prefix(1000) == ArraySlice((1...1000).map { RedisValue.integer(Int64($0)) }))
        guard case .error(let message) = replies[1000] else {
            Issue.record("expected an error reply, got \(replies[1000])")
            return
        }
        #expect(message.contains("not an integer"))
        #expect(replies[1001] == .bulk("1000"))
    }

    @Test func refusedConnectIsAConnectionError() async throws {
        let port = Ports.free()
        let error = await #expect(throws: RedisError.self) {
            try await RedisConnection.connect(host: "127.0.0.1", port: port, connectTimeout: .seconds(1), commandTimeout: .seconds(1))
        }
        #expect(error?.isConnectionError == true)
        #expect(error?.description.contains("127.0.0.1:\(port)") == true)
    }

    @Test func commandTimeoutBreaksABlockedRead() async throws {
        let redis = try await RedisServer.start()
        let connection = try await RedisConnection.connect(
            host: "127.0.0.1", port: redis.port, connectTimeout: .seconds(1), commandTimeout: .milliseconds(300)
        )
        defer { connection.close() }
        let started = ContinuousClock.now
        let error = await #expect(throws: RedisError.self) { try await connection.command(["BLPOP", "empty", "5"]) }
        #expect(error?.isConnectionError == true)
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    /// close() leaves the socket to its owner thread: the call in flight ends by itself (here
    /// BLPOP's own 1 s timeout), then the socket is closed and later calls fail.
    @Test func closeLetsTheCallInFlightEndThenRefusesCalls() async throws {
        let redis = try await RedisServer.start()
        let connection = try await RedisConnection.connect(
            host: "127.0.0.1", port: redis.port, connectTimeout: .seconds(5), commandTimeout: .seconds(5))
        let blocked = Task { try await connection.command(["BLPOP", "empty", "1"]) }
        try await Task.sleep(for: .milliseconds(200))
        connection.close()
        #expect(try await blocked.value == .null)
        await #expect(throws: RedisError.self) { try await connection.command(["PING"]) }
    }

    /// A second close (as `RedisClient` discarding a connection, then its deinit) must not touch
    /// the descriptor number again: by then it may belong to another socket.
    @Test func closingTwiceNeverTouchesADescriptorNumberReusedByAnotherConnection() async throws {
        let redis = try await RedisServer.start()
        for _ in 0..<20 {
            let first = try await RedisConnection.connect(
                host: "127.0.0.1", port: redis.port, connectTimeout: .seconds(2), commandTimeout: .seconds(2))
            _ = try await first.command(["PING"])
            first.close()
            try await Task.sleep(for: .milliseconds(5))  // its thread has closed the socket by now
            let second = try await RedisConnection.connect(
                host: "127.0.0.1", port: redis.port, connectTimeout: .seconds(2), commandTimeout: .seconds(2))
            first.close()
            try await Task.sleep(for: .milliseconds(5))
            #expect(try await second.command(["PING"]) == .status("PONG"))
            second.close()
        }
    }

    @Test func scriptFallsBackToEvalAfterTheCacheIsFlushed() async throws {
        let redis = try await RedisServer.start()
        let connection = try await RedisConnection.connect(
            host: "127.0.0.1", port: redis.port, connectTimeout: .seconds(2), commandTimeout: .seconds(2))
        defer { connection.close() }
        let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")

        #expect(try await script.run(on: connection, keys: ["total"], arguments: ["2"]) == .integer(2))
        _ = try await connection.command(["SCRIPT", "FLUSH"])
        #expect(try await script.run(on: connection, keys: ["total"], arguments: ["3"]) == .integer(5))
        #expect(try await script.run(on: connection, keys: ["total"], arguments: ["4"]) == .integer(9))
    }
}
