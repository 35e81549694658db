import AsyncHTTPClient
import Discovery
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import RedisAdapter
import TestSupport
import Testing

@testable import WebApp

#if canImport(Glibc)
import Glibc
#endif

/// The built `webapp` against a redis-server running the ACL file the project ships: as its own
/// user everything it does in Redis works (the events, the outbox's scripts: an ACL too tight
/// fails here); a wrong password keeps it up and answering pages but not ready, naming Redis;
/// a half-given pair of credentials stops it at start.
@Suite(.stopsServers) struct RedisCredentialsTests {
    static func start(_ harness: Harness, redis: ServerProcess, environment: [String: String]) async throws -> ServerProcess {
        try await ServiceProcess.start(
            "webapp", finding: ["adderservice": harness.adderServer.port, "auditservice": harness.auditServer.port, "redis": redis.port],
            logLevel: "info", environment: environment
        )
    }

    static func calculate(_ harness: Harness, _ base: String, first: Int) async throws -> (status: UInt, page: String) {
        var request = HTTPClientRequest(url: base + "/add/calculate")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: "first=\(first)&second=2"))
        let response = try await harness.http.execute(request, timeout: .seconds(10))
        return (response.status.code, String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    @Test func asItsOwnUserTheWebappRecordsEventsAndDeliversItsOutbox() async throws {
        try await Harness.with { harness in
            let users = try await RedisUsers.make()
            let redis = try await RedisServer.start(users: users)
            // An earlier version's parking list, to be moved into the stream at start (TYPE, LRANGE, DEL).
            let webappUser = Credentials(username: "webapp", password: try users.password("webapp"))
            let setup = try await RedisConnection.connect(
                host: "127.0.0.1", port: redis.port, connectTimeout: .seconds(2), commandTimeout: .seconds(5), credentials: webappUser
            )
            defer { setup.close() }
            let parked = #"{"id":"parked-1","calc":"1+1","calcResult":2}"#
            _ = try await setup.command(["EVAL", "return redis.call('LPUSH', KEYS[1], ARGV[1])", "1", "webapp:audit:pending", parked])

            let webapp = try await Self.start(harness, redis: redis, environment: try users.environment("webapp"))
            let base = "http://127.0.0.1:\(webapp.port)"
            for first in 1...3 {
                let (status, page) = try await Self.calculate(harness, base, first: first)
                #expect(status == 200, "\(page.prefix(300))\n\(webapp.log())")
            }
            let delivered = await eventually(timeout: .seconds(30)) { harness.audit.stored.count == 4 }
            #expect(delivered, "\(harness.audit.stored.map(\.calc))\n\(webapp.log())")
            #expect(Set(harness.audit.stored.map(\.calc)) == ["1+1", "1+2", "2+2", "3+2"])
            let admin = "http://127.0.0.1:\(webapp.metricsPort)"
            let ready = try await harness.http.execute(HTTPClientRequest(url: admin + "/readyz"), timeout: .seconds(10))
            #expect(ready.status == .ok)

            // The page events reached the queue, pushed as the webapp's user; read as the eventservice's.
            let eventservice = try await RedisConnection.connect(
                host: "127.0.0.1", port: redis.port, connectTimeout: .seconds(2), commandTimeout: .seconds(5),
                credentials: Credentials(username: "eventservice", password: try users.password("eventservice"))
            )
            defer { eventservice.close() }
            let queued = await eventually { (try? await eventservice.command(["LLEN", "eventservice"]).integer) == 3 }
            #expect(queued, "one event per calculation page\n\(webapp.log())")
            #expect(!webapp.log().contains("NOPERM"), "\(webapp.log())")

            webapp.signal(SIGTERM)
            #expect(await webapp.waitForExit(timeout: .seconds(12)) == 0, "\(webapp.log())")
        }
    }

    @Test func aWrongPasswordMakesItUnreadyNamingRedisNotACrash() async throws {
        try await Harness.with { harness in
            let users = try await RedisUsers.make()
            let redis = try await RedisServer.start(users: users)
            let webapp = try await Self.start(
                harness, redis: redis, environment: ["REDIS_USERNAME": "webapp", "REDIS_PASSWORD": try users.password("report")]
            )
            let base = "http://127.0.0.1:\(webapp.port)"
            let admin = "http://127.0.0.1:\(webapp.metricsPort)"
            var body = ""
            let unready = await eventually(timeout: .seconds(10)) {
                guard let response = try? await harness.http.execute(HTTPClientRequest(url: admin + "/readyz"), timeout: .seconds(5)) else {
                    return false
                }
                body = String(buffer: (try? await response.body.collect(upTo: 1 << 16)) ?? ByteBuffer())
                return response.status == .serviceUnavailable
            }
            #expect(unready, "\(body)\n\(webapp.log())")
            #expect(body.contains("redis"), "\(body)")
            #expect(body.contains("authentication failed"), "\(body)")
            #expect(!body.contains(try users.password("report")), "the password is in the answer")
            #expect(!webapp.log().contains(try users.password("report")), "the password is in the log")
            // Up and serving all the same: the calculation is recorded with auditservice directly.
            let (status, page) = try await Self.calculate(harness, base, first: 40)
            #expect(status == 200, "\(page.prefix(300))")
            #expect(page.contains("40 + 2 = <strong>42</strong>"))
            #expect(webapp.isRunning)
            webapp.signal(SIGTERM)
            #expect(await webapp.waitForExit(timeout: .seconds(12)) == 0, "\(webapp.log())")
        }
    }

    @Test(arguments: [
        (["REDIS_USERNAME": "webapp"], "REDIS_PASSWORD"),
        (["REDIS_PASSWORD": "secret-value"], "REDIS_USERNAME"),
    ])
    func aHalfGivenPairStopsTheStartNamingTheMissingVariable(environment: [String: String], missing: String) async throws {
        let webapp = try await ServiceProcess.start("webapp", environment: environment, waitForPort: false)
        let status = await webapp.waitForExit(timeout: .seconds(10))
        #expect(status == 78, "\(webapp.log())")
        #expect(webapp.log().contains(missing), "\(webapp.log())")
        #expect(!webapp.log().contains("secret-value"), "\(webapp.log())")
    }
}
