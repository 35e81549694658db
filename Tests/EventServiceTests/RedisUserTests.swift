import Contracts
import Discovery
import Foundation
import Logging
import TestSupport
import Testing

@testable import EventService
@testable import RedisAdapter

/// The worker's whole Redis work as the `eventservice` user of the ACL file the project ships
/// (deployment/components/credentials/redis-users.acl): every command its scripts call is
/// allowed, so an ACL too tight fails here. (Too loose: RedisAdapterTests' RedisACLTests.)
@Suite(.stopsServers) struct RedisUserTests {
    @Test func theWorkerDoesAllItsWorkAsItsOwnUser() async throws {
        let users = try await RedisUsers.make()
        let server = try await RedisServer.start(users: users)
        let port = server.port
        let credentials = Credentials(username: "eventservice", password: try users.password("eventservice"))
        var settings = EventWorkerSettings()
        settings.dedupeWindow = 2  // so the seen ids change generation (UNLINK, RENAME)
        let warnings = WarningCount()
        let logger = Logger(label: "eventservice-acl") { _ in warnings }
        let worker = EventWorker(
            consumer: RedisClient(
                endpoint: { .init(host: "127.0.0.1", port: port) }, logger: logger, connectTimeout: .seconds(1),
                commandTimeout: .seconds(5),
                credentials: credentials
            ),
            monitor: RedisClient(endpoint: { .init(host: "127.0.0.1", port: port) }, logger: logger, credentials: credentials),
            settings: settings, logger: logger
        )
        // Producers as the webapp and the report push (their users may push and nothing more).
        let webapp = try await RedisConnection.connect(
            host: "127.0.0.1", port: port, connectTimeout: .seconds(2), commandTimeout: .seconds(5),
            credentials: Credentials(username: "webapp", password: try users.password("webapp"))
        )
        defer { webapp.close() }
        let records = (1...5).map { EventQueueContract.recordMessage(url: "/add", id: "id-\($0)") }
        _ = try await webapp.command(["LPUSH", EventQueueContract.queue] + records + [records[0]])  // one resent
        _ = try await webapp.command([
            "LPUSH", EventQueueContract.queue, String(repeating: "x", count: EventQueueContract.maximumMessageBytes + 1),
        ])
        _ = try await webapp.command(["LPUSH", EventQueueContract.queue, "not json"])
        let reply = EventQueueContract.replyPath(suffix: "acl")
        _ = try await webapp.command([
            "LPUSH", EventQueueContract.queue, EventQueueContract.summaryMessage(returnPath: reply, deadline: 4_000_000_000_000),
        ])  // TIME in the script

        let running = Task { try await worker.run() }
        defer { running.cancel() }
        let report = try await RedisConnection.connect(
            host: "127.0.0.1", port: port, connectTimeout: .seconds(2), commandTimeout: .seconds(10),
            credentials: Credentials(username: "report", password: try users.password("report"))
        )
        defer { report.close() }
        let answer = try await report.command(["BLPOP", reply, "8"])
        #expect(answer.array?.last == .bulk(#"{"/add":5}"#), "the summary, every record once: \(answer)")

        // Everything the worker did, as the eventservice's user sees it.
        let own = try await RedisConnection.connect(
            host: "127.0.0.1", port: port, connectTimeout: .seconds(2), commandTimeout: .seconds(5), credentials: credentials
        )
        defer { own.close() }
        #expect(try await own.command(["LLEN", EventKeys.standard.dead]) == .integer(2), "the oversized and the malformed message")
        #expect(try await own.command(["LLEN", EventKeys.standard.processing]) == .integer(0))
        #expect(try await own.command(["LLEN", EventQueueContract.queue]) == .integer(0))
        // A later record after the worker waited in BLMOVE (CLIENT REPLY OFF … ON) is counted too.
        try await Task.sleep(for: .milliseconds(1500))
        _ = try await webapp.command(["LPUSH", EventQueueContract.queue, EventQueueContract.recordMessage(url: "/", id: "id-late")])
        let late = EventQueueContract.replyPath(suffix: "acl-2")
        _ = try await report.command([
            "LPUSH", EventQueueContract.queue, EventQueueContract.summaryMessage(returnPath: late, deadline: nil),
        ])
        let second = try await report.command(["BLPOP", late, "8"]).array?.last?.string ?? ""
        #expect(try JSONDecoder().decode([String: Int].self, from: Data(second.utf8)) == ["/add": 5, "/": 1])
        // No round failed on the way (a refused command only slows the worker: it retries).
        #expect(warnings.messages.isEmpty, "\(warnings.messages)")
    }
}

/// The warnings (and worse) a logger was given.
private final class WarningCount: LogHandler, @unchecked Sendable {
    // @unchecked: `lines` is only touched under `lock`; metadata and level are set before use.
    private let lock = NSLock()
    private var lines: [String] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    var messages: [String] { lock.withLock { lines } }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        guard event.level >= .warning else { return }
        lock.withLock { lines.append("\(event.message)") }
    }
}
