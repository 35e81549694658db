import Discovery
import Logging
import TestSupport
import Testing

@testable import RedisAdapter

/// The Redis users the project ships (deployment/components/credentials/redis-users.acl, rendered
/// by deployment/credentials.sh) on a real redis-server 7: who may do what. What each service's
/// own code needs is checked beside that code (WebAppTests, EventServiceTests, ReportTests run
/// their Redis work as their user); here, what each user must not do, and how AUTH fails.
@Suite("Redis ACL users", .stopsServers)
struct RedisACLTests {
    struct Server {
        let process: ServerProcess
        let users: RedisUsers

        func connect(_ user: String?, password: String? = nil) async throws(RedisError) -> RedisConnection {
            let credentials: Credentials?
            do {
                credentials = try user.map { Credentials(username: $0, password: try password ?? users.password($0)) }
            } catch {
                throw RedisError(.usage, "no password for \(user ?? "")")
            }
            return try await RedisConnection.connect(
                host: "127.0.0.1", port: process.port, connectTimeout: .seconds(2), commandTimeout: .seconds(5), credentials: credentials
            )
        }
    }

    static func start() async throws -> Server {
        let users = try await RedisUsers.make()
        return Server(process: try await RedisServer.start(users: users), users: users)
    }

    /// The error a command gets, or nil when it ran.
    static func refusal(_ connection: RedisConnection, _ command: [String]) async -> RedisError? {
        do {
            _ = try await connection.command(command)
            return nil
        } catch {
            return error
        }
    }

    /// Refused for want of a permission: NOPERM, or from inside a script, its own wording.
    static func expectRefused(_ connection: RedisConnection, _ command: [String], sourceLocation: SourceLocation = #_sourceLocation) async {
        let error = await refusal(connection, command)
        let message = error?.message ?? ""
        let refused = message.hasPrefix("NOPERM") || message.contains("The user executing the script can't")
        #expect(refused, "\(command) was not refused: \(String(describing: error))", sourceLocation: sourceLocation)
    }

    static func expectAllowed(_ connection: RedisConnection, _ command: [String], sourceLocation: SourceLocation = #_sourceLocation) async {
        let error = await refusal(connection, command)
        #expect(error == nil, "\(command) was refused: \(String(describing: error))", sourceLocation: sourceLocation)
    }

    @Test func withoutCredentialsEveryCommandGetsNOAUTH() async throws {
        let server = try await Self.start()
        let anonymous = try await server.connect(nil)
        defer { anonymous.close() }
        for command in [["PING"], ["GET", "eventservice:counts"], ["FLUSHALL"], ["LPUSH", "eventservice", "x"]] {
            let error = await Self.refusal(anonymous, command)
            #expect(error?.kind == .authentication, "\(command): \(String(describing: error))")
            #expect(error?.message.hasPrefix("NOAUTH") == true)
        }
        // The default user is off: AUTH with its name fails whatever the password.
        let error = await Self.refusal(anonymous, ["AUTH", "default", ""])
        #expect(error?.message.hasPrefix("WRONGPASS") == true, "\(String(describing: error))")
    }

    @Test func aWrongPasswordFailsTheConnectAsAnAuthenticationError() async throws {
        let server = try await Self.start()
        do {
            let connection = try await server.connect("webapp", password: "not-the-password")
            connection.close()
            Issue.record("connected with a wrong password")
        } catch {
            #expect(error.kind == .authentication)
            #expect(!error.isConnectionError, "a refusal is not an outage: reconnecting does not mend it")
            #expect(error.description.contains("authentication failed"), "\(error)")
            #expect(error.description.contains("user webapp"), "\(error)")
            #expect(!error.description.contains("not-the-password"), "the password is in the message: \(error)")
        }
        // Another user's password does not open this one.
        let crossed = try server.users.password("report")
        await #expect(throws: RedisError.self) { try await server.connect("webapp", password: crossed).close() }
        // The right one does.
        let connection = try await server.connect("webapp")
        #expect(try await connection.command(["PING"]) == .status("PONG"))
        connection.close()
    }

    @Test func theClientKeepsTheRefusalUntilAConnectSucceeds() async throws {
        let server = try await Self.start()
        let port = server.process.port
        let wrong = RedisClient(
            endpoint: { .init(host: "127.0.0.1", port: port) }, logger: Logger(label: "test"),
            credentials: Credentials(username: "eventservice", password: "wrong")
        )
        #expect(wrong.authenticationFailure == nil, "nothing tried yet")
        await #expect(throws: RedisError.self) { try await wrong.command(["PING"]) }
        #expect(wrong.authenticationFailure?.kind == .authentication)
        // The next call tries again (and fails again): no crash, no hot loop of its own.
        await #expect(throws: RedisError.self) { try await wrong.command(["PING"]) }

        let right = RedisClient(
            endpoint: { .init(host: "127.0.0.1", port: port) }, logger: Logger(label: "test"),
            credentials: Credentials(username: "eventservice", password: try server.users.password("eventservice"))
        )
        #expect(try await right.command(["PING"]) == .status("PONG"))
        #expect(right.authenticationFailure == nil)
        await wrong.close()
        await right.close()
    }

    @Test func theProbeUserMayOnlyPing() async throws {
        let server = try await Self.start()
        let probe = try await server.connect("probe", password: "anything")
        defer { probe.close() }
        await Self.expectAllowed(probe, ["PING"])
        await Self.expectRefused(probe, ["GET", "eventservice:counts"])
        await Self.expectRefused(probe, ["INFO"])
        await Self.expectRefused(probe, ["KEYS", "*"])
    }

    @Test func theWebappMayPushEventsAndKeepItsOutboxButNothingElse() async throws {
        let server = try await Self.start()
        let webapp = try await server.connect("webapp")
        defer { webapp.close() }
        // What it is for.
        await Self.expectAllowed(webapp, ["LPUSH", "eventservice", #"{"action":"record","type":"page","url":"/"}"#])
        await Self.expectAllowed(webapp, ["EVAL", "return redis.call('XADD', KEYS[1], '*', 'record', '{}')", "1", "webapp:audit:outbox"])
        await Self.expectAllowed(webapp, ["EVAL", "return redis.call('LPUSH', KEYS[1], 'x')", "1", "webapp:audit:dead"])
        // The queue: a push and nothing else, not even reading it back.
        await Self.expectRefused(webapp, ["DEL", "eventservice"])
        await Self.expectRefused(webapp, ["LRANGE", "eventservice", "0", "-1"])
        await Self.expectRefused(webapp, ["RPOP", "eventservice"])
        await Self.expectRefused(webapp, ["LPUSH", "eventservice:processing", "x"])
        // The counts: neither read nor written nor deleted, directly or by a script.
        await Self.expectRefused(webapp, ["HGETALL", "eventservice:counts"])
        await Self.expectRefused(webapp, ["HINCRBY", "eventservice:counts", "/", "1000"])
        await Self.expectRefused(webapp, ["DEL", "eventservice:counts"])
        await Self.expectRefused(webapp, ["EVAL", "return redis.call('DEL', KEYS[1])", "1", "eventservice:counts"])
        await Self.expectRefused(webapp, ["EVAL", "return redis.call('HGETALL', 'eventservice:counts')", "0"])
        await Self.expectRefused(webapp, ["EVAL", "return redis.call('DEL', 'eventservice')", "0"])
        // Outside its keys, and the whole server.
        await Self.expectRefused(webapp, ["SET", "anything", "x"])
        await Self.expectRefused(webapp, ["LPUSH", "webapp", "x"])
        await Self.expectRefused(webapp, ["FLUSHALL"])
        await Self.expectRefused(webapp, ["FLUSHDB"])
        await Self.expectRefused(webapp, ["EVAL", "return redis.call('FLUSHALL')", "0"])
        await Self.expectRefused(webapp, ["KEYS", "*"])
        await Self.expectRefused(webapp, ["CONFIG", "SET", "appendonly", "no"])
        await Self.expectRefused(webapp, ["ACL", "LIST"])
        await Self.expectRefused(webapp, ["SCRIPT", "FLUSH"])
        await Self.expectRefused(webapp, ["SHUTDOWN"])
    }

    @Test func theEventserviceOwnsItsKeysAndCannotTouchTheWebapps() async throws {
        let server = try await Self.start()
        let eventservice = try await server.connect("eventservice")
        defer { eventservice.close() }
        await Self.expectAllowed(eventservice, ["LLEN", "eventservice"])
        await Self.expectAllowed(eventservice, ["EVAL", "return redis.call('HINCRBY', KEYS[1], '/', 1)", "1", "eventservice:counts"])
        // The webapp's outbox, dead list and earlier parking list: not even to look.
        await Self.expectRefused(eventservice, ["XLEN", "webapp:audit:outbox"])
        await Self.expectRefused(eventservice, ["EVAL", "return redis.call('XLEN', KEYS[1])", "1", "webapp:audit:outbox"])
        await Self.expectRefused(eventservice, ["EVAL", "return redis.call('DEL', 'webapp:audit:outbox')", "0"])
        await Self.expectRefused(eventservice, ["EVAL", "return redis.call('LPUSH', KEYS[1], 'x')", "1", "webapp:audit:pending"])
        await Self.expectRefused(eventservice, ["EVAL", "return redis.call('LRANGE', KEYS[1], 0, -1)", "1", "webapp:audit:dead"])
        // Nor the rest of the server.
        await Self.expectRefused(eventservice, ["SET", "anything", "x"])
        await Self.expectRefused(eventservice, ["FLUSHALL"])
        await Self.expectRefused(eventservice, ["EVAL", "return redis.call('FLUSHALL')", "0"])
        await Self.expectRefused(eventservice, ["KEYS", "*"])
        await Self.expectRefused(eventservice, ["CONFIG", "GET", "*"])
    }

    @Test func theReportMayAskAndTakeItsAnswerButNotWriteCounts() async throws {
        let server = try await Self.start()
        let setup = try await server.connect("eventservice")
        defer { setup.close() }
        _ = try await setup.command(["LPUSH", "eventservice:reply:r1", "{}"])
        let report = try await server.connect("report")
        defer { report.close() }
        // What it is for: the clock, its request pushed and taken back, its answer popped.
        await Self.expectAllowed(report, ["TIME"])
        await Self.expectAllowed(report, ["LPUSH", "eventservice", "request"])
        await Self.expectAllowed(report, ["LREM", "eventservice", "1", "request"])
        #expect(
            try await report.command(["BLPOP", "eventservice:reply:r1", "1"]) == .array([.bulk("eventservice:reply:r1"), .bulk("{}")]))
        // The counts: not written, deleted or read.
        await Self.expectRefused(report, ["HINCRBY", "eventservice:counts", "/", "1000"])
        await Self.expectRefused(report, ["HSET", "eventservice:counts", "/", "1"])
        await Self.expectRefused(report, ["DEL", "eventservice:counts"])
        await Self.expectRefused(report, ["HGETALL", "eventservice:counts"])
        await Self.expectRefused(report, ["EVAL", "return redis.call('HINCRBY', KEYS[1], '/', 1)", "1", "eventservice:counts"])
        // The queue: push and take back only; it cannot take the events off it.
        await Self.expectRefused(report, ["BLPOP", "eventservice", "0.01"])
        await Self.expectRefused(report, ["RPOP", "eventservice"])
        await Self.expectRefused(report, ["DEL", "eventservice"])
        // The reply key space: pop only, no writing answers.
        await Self.expectRefused(report, ["LPUSH", "eventservice:reply:r2", "{\"/\":1000}"])
        await Self.expectRefused(report, ["DEL", "eventservice:reply:r1"])
        await Self.expectRefused(report, ["FLUSHALL"])
        await Self.expectRefused(report, ["XLEN", "webapp:audit:outbox"])
    }
}
