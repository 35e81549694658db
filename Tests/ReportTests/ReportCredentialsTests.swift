import Discovery
import Foundation
import Logging
import TestSupport
import Testing

@testable import EventService
@testable import RedisAdapter

/// The built `report` against a redis-server running the ACL file the project ships: as the
/// `report` user it asks (TIME, LPUSH), takes its answer (BLPOP) and, unanswered, takes its
/// request back (LREM); a wrong password is exit 4 naming the refusal; a half-given pair is 78.
@Suite("report credentials", .stopsServers)
struct ReportCredentialsTests {
    func run(_ users: RedisUsers, redisPort: Int, environment: [String: String], _ arguments: [String] = ["--timeout", "5"]) async throws
        -> (status: Int32, stdout: String, stderr: String)
    {
        let dns = try await DNSServer.start(records: [.main("redis", port: redisPort)])
        let base = ["DNS_HOST": "127.0.0.1", "DNS_PORT": "\(dns.port)", "PATH": "/usr/bin:/bin"]
        let result = try await CommandResult.execute(
            try TestPaths.builtExecutable("report"), arguments, environment: base.merging(environment) { $1 }
        )
        return (result.status, result.standardOutput, result.standardError)
    }

    @Test func asTheReportUserItPrintsTheCountsTheEventserviceUserKept() async throws {
        let users = try await RedisUsers.make()
        let redis = try await RedisServer.start(users: users)
        let port = redis.port
        let credentials = Credentials(username: "eventservice", password: try users.password("eventservice"))
        let logger = Logger(label: "report-acl")
        let worker = EventWorker(
            consumer: RedisClient(endpoint: { .init(host: "127.0.0.1", port: port) }, logger: logger, credentials: credentials),
            monitor: RedisClient(endpoint: { .init(host: "127.0.0.1", port: port) }, logger: logger, credentials: credentials),
            logger: logger
        )
        let running = Task { try await worker.run() }
        defer { running.cancel() }
        let webapp = try await RedisConnection.connect(
            host: "127.0.0.1", port: port, connectTimeout: .seconds(2), commandTimeout: .seconds(5),
            credentials: Credentials(username: "webapp", password: try users.password("webapp"))
        )
        defer { webapp.close() }
        _ = try await webapp.command(["LPUSH", "eventservice", #"{"action":"record","type":"page","url":"/add","id":"a1"}"#])

        let result = try await run(users, redisPort: port, environment: try users.environment("report"), ["--json", "--timeout", "10"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains(#""/add":1"#), "\(result.stdout)")
    }

    @Test func unansweredItTakesItsRequestBackAsTheReportUser() async throws {
        let users = try await RedisUsers.make()
        let redis = try await RedisServer.start(users: users)
        let result = try await run(users, redisPort: redis.port, environment: try users.environment("report"), ["--timeout", "0.5"])
        #expect(result.status == 5, "\(result.stderr)")
        let eventservice = try await RedisConnection.connect(
            host: "127.0.0.1", port: redis.port, connectTimeout: .seconds(2), commandTimeout: .seconds(5),
            credentials: Credentials(username: "eventservice", password: try users.password("eventservice"))
        )
        defer { eventservice.close() }
        #expect(try await eventservice.command(["LLEN", "eventservice"]) == .integer(0), "the request was taken back (LREM)")
    }

    @Test func aWrongPasswordIsExit4NamingTheRefusal() async throws {
        let users = try await RedisUsers.make()
        let redis = try await RedisServer.start(users: users)
        let wrong = try users.password("webapp")
        let result = try await run(users, redisPort: redis.port, environment: ["REDIS_USERNAME": "report", "REDIS_PASSWORD": wrong])
        #expect(result.status == 4, "\(result.stderr)")
        #expect(result.stderr.contains("authentication failed") && result.stderr.contains("user report"), "\(result.stderr)")
        #expect(!result.stderr.contains(wrong))
        let none = try await run(users, redisPort: redis.port, environment: [:])
        #expect(none.status == 4 && none.stderr.contains("NOAUTH"), "without credentials: \(none.stderr)")
    }

    @Test func aHalfGivenPairIsExit78NamingTheMissingVariable() async throws {
        let users = try await RedisUsers.make()
        let redis = try await RedisServer.start(users: users)
        let result = try await run(users, redisPort: redis.port, environment: ["REDIS_USERNAME": "report"])
        #expect(result.status == 78, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("report: configuration error: invalid REDIS_PASSWORD"), "\(result.stderr)")
    }
}
