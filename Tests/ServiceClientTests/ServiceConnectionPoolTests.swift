import Discovery
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import TestSupport
import Testing

@testable import ServiceClient

/// The keep-alive client (the webapp's calls, the span exports) against a raw TCP server whose
/// replies each test scripts.
@Suite struct ServiceConnectionPoolTests {
    static let ok = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    @Test func callsReuseOneKeepAliveConnection() async throws {
        try await ScriptedServer.with(reply: Self.ok) { server in
            let pool = ServiceConnectionPool()
            for _ in 1...5 {
                let reply = try await pool.execute(.GET, "/x", body: nil, to: server.target, timeout: .seconds(2))
                #expect(reply.status == .ok)
                #expect(String(buffer: reply.body) == "ok")
            }
            #expect(server.state.connections.load(ordering: .relaxed) == 1)
            try await pool.shutdown()
        }
    }

    /// Beyond the cap, calls wait for a connection instead of opening more.
    @Test func concurrentCallsBeyondTheCapWaitForAConnection() async throws {
        try await ScriptedServer.with(reply: Self.ok) { server in
            let pool = ServiceConnectionPool(maxPerTarget: 2)
            let target = server.target
            let replies = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 1...20 {
                    group.addTask {
                        String(buffer: try await pool.execute(.GET, "/x", body: nil, to: target, timeout: .seconds(5)).body)
                    }
                }
                return try await group.reduce(into: [String]()) { $0.append($1) }
            }
            #expect(replies == Array(repeating: "ok", count: 20))
            #expect(server.state.connections.load(ordering: .relaxed) <= 2)
            try await pool.shutdown()
        }
    }

    /// A closed connection frees its place for a waiting call, which connects anew.
    @Test func closedConnectionsHandTheirPlaceToWaitingCalls() async throws {
        let reply = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
        try await ScriptedServer.with(reply: reply, closeAfterReply: true) { server in
            let pool = ServiceConnectionPool(maxPerTarget: 1)
            let target = server.target
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 1...5 {
                    group.addTask { _ = try await pool.execute(.GET, "/x", body: nil, to: target, timeout: .seconds(5)) }
                }
                try await group.waitForAll()
            }
            #expect(server.state.connections.load(ordering: .relaxed) == 5)
            try await pool.shutdown()
        }
    }

    /// A call waiting at the cap that is cancelled leaves the line at once; the place freed
    /// after goes to the next call still waiting, never to the cancelled one.
    @Test func aCancelledWaiterGivesUpItsTurn() async throws {
        try await ScriptedServer.with(reply: nil) { server in
            let pool = ServiceConnectionPool(maxPerTarget: 1)
            let target = server.target
            let (holder, cancelled, next) = try await Self.twoWaitersBehindAHolder(pool, server, secondTimeout: .seconds(30))
            cancelled.cancel()
            await #expect(throws: CancellationError.self) { try await cancelled.value }
            #expect(pool.waiting(for: target) == 1)
            try await Self.freeingTheHoldersPlaceServes(next, holder: holder, pool, server)
        }
    }

    /// A call waiting at the cap gives up when its time is over (a connection failure: nothing
    /// was sent); the place freed after goes to the next call still waiting.
    @Test func aWaiterOutOfTimeGivesUpItsTurn() async throws {
        try await ScriptedServer.with(reply: nil) { server in
            let pool = ServiceConnectionPool(maxPerTarget: 1)
            let target = server.target
            // Long enough for the third call to queue behind it on a loaded machine.
            let (holder, expired, next) = try await Self.twoWaitersBehindAHolder(pool, server, secondTimeout: .seconds(2))
            let error = await #expect(throws: NoConnectionFree.self) { try await expired.value }
            #expect(error.map(ServiceBalancer.isConnectionFailure) == true)
            #expect(pool.waiting(for: target) == 1)
            try await Self.freeingTheHoldersPlaceServes(next, holder: holder, pool, server)
        }
    }

    typealias Call = Task<ServiceReply, any Error>

    /// A call holding the only connection to a silent server, and two calls waiting behind it in
    /// order: `/second` (with `secondTimeout`), then `/third`.
    static func twoWaitersBehindAHolder(
        _ pool: ServiceConnectionPool, _ server: ScriptedServer, secondTimeout: TimeAmount
    ) async throws -> (holder: Call, second: Call, third: Call) {
        let target = server.target
        let holder = Task { try await pool.execute(.GET, "/first", body: nil, to: target, timeout: .seconds(30)) }
        #expect(await eventually { server.state.received.withLock { $0 }.contains("GET /first") })
        let second = Task { try await pool.execute(.GET, "/second", body: nil, to: target, timeout: secondTimeout) }
        #expect(await eventually { pool.waiting(for: target) == 1 })
        let third = Task { try await pool.execute(.GET, "/third", body: nil, to: target, timeout: .seconds(30)) }
        #expect(await eventually { pool.waiting(for: target) == 2 })
        return (holder, second, third)
    }

    /// Cancelling the holder closes its connection; its place goes to `next`, whose request
    /// reaches the server on a second connection (the call that left the line never connects).
    static func freeingTheHoldersPlaceServes(_ next: Call, holder: Call, _ pool: ServiceConnectionPool, _ server: ScriptedServer)
        async throws
    {
        holder.cancel()
        _ = await holder.result
        #expect(await eventually { server.state.received.withLock { $0 }.contains("GET /third") })
        #expect(server.state.connections.load(ordering: .relaxed) == 2)
        #expect(!server.state.received.withLock { $0 }.contains("GET /second"))
        #expect(pool.waiting(for: server.target) == 0)
        next.cancel()
        _ = await next.result
        try await pool.shutdown()
    }

    @Test func aReplyWithConnectionCloseIsNotReused() async throws {
        let reply = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
        try await ScriptedServer.with(reply: reply, closeAfterReply: true) { server in
            let pool = ServiceConnectionPool()
            for _ in 1...3 {
                let answer = try await pool.execute(.GET, "/x", body: nil, to: server.target, timeout: .seconds(2))
                #expect(String(buffer: answer.body) == "ok")
            }
            #expect(server.state.connections.load(ordering: .relaxed) == 3)
            try await pool.shutdown()
        }
    }

    /// A keep-alive connection the server has since closed is replaced, not used and failed.
    @Test func anIdleConnectionTheServerClosedIsReplaced() async throws {
        try await ScriptedServer.with(reply: Self.ok, closeAfterReply: true) { server in
            let pool = ServiceConnectionPool()
            _ = try await pool.execute(.GET, "/x", body: nil, to: server.target, timeout: .seconds(2))
            try await Task.sleep(for: .milliseconds(200))
            let again = try await pool.execute(.GET, "/x", body: nil, to: server.target, timeout: .seconds(2))
            #expect(again.status == .ok)
            #expect(server.state.connections.load(ordering: .relaxed) == 2)
            try await pool.shutdown()
        }
    }

    /// A target that accepts and never answers fails the call at its deadline, as "not a
    /// connection failure": the request may have been acted on, so it is not sent elsewhere.
    @Test func aSilentTargetTimesOut() async throws {
        try await ScriptedServer.with(reply: nil) { server in
            let pool = ServiceConnectionPool()
            let start = ContinuousClock.now
            await #expect(throws: ServiceTimeout.self) {
                try await pool.execute(.GET, "/x", body: nil, to: server.target, timeout: .milliseconds(200))
            }
            #expect(ContinuousClock.now - start < .seconds(2))
            #expect(!ServiceBalancer.isConnectionFailure(ServiceTimeout()))
            try await pool.shutdown()
        }
    }

    @Test func aTooLargeReplyFails() async throws {
        let size = ServiceConnectionPool.maxReplySize + 1
        let reply = "HTTP/1.1 200 OK\r\nContent-Length: \(size)\r\n\r\n" + String(repeating: "x", count: size)
        try await ScriptedServer.with(reply: reply) { server in
            let pool = ServiceConnectionPool()
            await #expect(throws: BadServiceReply.self) {
                try await pool.execute(.GET, "/x", body: nil, to: server.target, timeout: .seconds(5))
            }
            try await pool.shutdown()
        }
    }

    /// A refused connection is one the balancer fails over from: a `ConnectFailed` naming the
    /// target, as are a silent one's (the connect timeout) and an unreachable one's.
    @Test func aRefusedConnectionIsAConnectionFailure() async throws {
        let pool = ServiceConnectionPool()
        let closed = ServiceTarget(host: "127.0.0.1", port: Ports.free())
        let error = await #expect(throws: ConnectFailed.self) {
            _ = try await pool.execute(.GET, "/x", body: nil, to: closed, timeout: .seconds(2))
        }
        #expect(error?.target == closed)
        #expect(error.map(ServiceBalancer.isConnectionFailure) == true)
        try await pool.shutdown()
    }

    /// The caller's headers go out beside the pool's `Host` and `Content-Length`.
    @Test func aPostSendsItsBodyWithItsLengthAndTheCallersHeaders() async throws {
        try await ScriptedServer.with(reply: Self.ok) { server in
            let pool = ServiceConnectionPool()
            _ = try await pool.execute(
                .POST, "/append", headers: ["content-type": "application/json"], body: ByteBuffer(string: #"{"a":1}"#), to: server.target,
                timeout: .seconds(2)
            )
            let request = server.state.received.withLock { $0 }
            #expect(request.hasPrefix("POST /append HTTP/1.1\r\n"))
            #expect(request.lowercased().contains("content-length: 7\r\n"))
            #expect(request.lowercased().contains("content-type: application/json\r\n"))
            #expect(request.lowercased().contains("host: 127.0.0.1:\(server.target.port)\r\n"))
            #expect(request.hasSuffix("\r\n\r\n{\"a\":1}"))
            try await pool.shutdown()
        }
    }

    /// A call to a silent target ends as soon as its task is cancelled, not at its deadline: the
    /// end of a drain budget (the webapp's calls, the span exporter's last export) waits for no
    /// hung service.
    @Test func cancellingACallEndsItAtOnce() async throws {
        try await ScriptedServer.with(reply: nil) { server in
            let pool = ServiceConnectionPool()
            let call = Task { try await pool.execute(.GET, "/x", body: nil, to: server.target, timeout: .seconds(3)) }
            #expect(await eventually { server.state.received.withLock { $0 }.hasSuffix("\r\n\r\n") }, "the request arrived")
            let cancelled = ContinuousClock.now
            call.cancel()
            let result = await call.result
            let took = cancelled.duration(to: .now)
            #expect(took < .seconds(1), "ended \(took) after the cancellation")
            #expect(throws: BadServiceReply.self) { try result.get() }
            try await pool.shutdown()
        }
    }
}
