import Contracts
import Discovery
import Foundation
import MongoAdapter
import NIOHTTP1
import ServiceRuntime
import TestSupport
import Testing

@testable import AuditService

/// The HTTP contract, in-process, against a real nx-27017 per test.
@Suite("auditservice HTTP contract", .stopsServers)
struct AuditHTTPTests {
    @Test("append then list: the exact stored document comes back")
    func appendThenList() async throws {
        let mongo = try await MongoServer.start()
        try await AuditHarness.withService(mongoPort: mongo.port) { client in
            try await client.waitUntilReady()
            let before = Int64(Date().timeIntervalSince1970 * 1000)
            let appended = try await client.append(#"{"calc": "2+3", "calcResult": 5}"#)
            let after = Int64(Date().timeIntervalSince1970 * 1000)
            #expect(appended.status == .created, "\(appended.text)")
            let stored = try appended.jsonObject()
            #expect(Set(stored.keys) == ["ts", "calc", "result"], "\(appended.text)")
            #expect(stored["calc"] as? String == "2+3")
            #expect((stored["result"] as? NSNumber)?.int64Value == 5)
            let ts = try #require((stored["ts"] as? NSNumber)?.int64Value)
            #expect((before...after).contains(ts), "ts \(ts) not between \(before) and \(after)")

            let listed = try await client.list()
            #expect(listed.status == .ok)
            let object = try listed.jsonObject()
            #expect(Array(object.keys) == ["list"])
            let list = try #require(object["list"] as? [[String: Any]])
            #expect(list.count == 1)
            #expect(list.first.map { Set($0.keys) } == ["ts", "calc", "result"])
            #expect(try listed.entries() == [AuditList.Entry(ts: ts, calc: "2+3", result: 5)])
        }
    }

    @Test("the ts index is created at start-up, and /metrics exports the connection gauge")
    func indexAndMetrics() async throws {
        Observability.bootstrap()  // swift-metrics series reach /metrics only through the process's backend
        let mongo = try await MongoServer.start()
        let pool = try MongoClientPool(uri: MongoURI.make(targets: [ServiceTarget(host: "127.0.0.1", port: mongo.port)]))
        try await AuditHarness.withService(mongoPort: mongo.port) { client in
            try await client.waitUntilReady()
            try await client.waitUntil("an index on ts exists") { try await AuditHarness.hasIndexOnTs(pool) }
            let metrics = try await client.admin.get("/metrics")
            // Only its presence: the gauge is process-wide, and other tests' services in this
            // process set it to 0 while their Mongo is away.
            #expect(metrics.text.contains("# TYPE auditservice_mongo_connected gauge"), "\(metrics.text)")
        }
    }

    @Test("concurrent appends are all stored, each with its own ts")
    func concurrentAppends() async throws {
        let mongo = try await MongoServer.start()
        try await AuditHarness.withService(mongoPort: mongo.port) { client in
            try await client.waitUntilReady()
            let statuses = try await withThrowingTaskGroup(of: HTTPResponseStatus.self) { group in
                for n in 0..<40 {
                    group.addTask { try await client.append(#"{"calc": "c\#(n)", "calcResult": \#(n)}"#).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .created }, "\(statuses)")
            let entries = try await client.list("?limit=100").entries()
            #expect(Set(entries.map(\.calc)) == Set((0..<40).map { "c\($0)" }))
            #expect(Set(entries.map(\.ts)).count == 40, "timestamps are unique within one instance")
        }
    }

    @Test("list is newest first; default 10, limit=N, capped at 100")
    func orderingAndLimits() async throws {
        let mongo = try await MongoServer.start()
        try await AuditHarness.withService(mongoPort: mongo.port) { client in
            try await client.waitUntilReady()
            for n in 0..<105 {
                let response = try await client.append(#"{"calc": "n\#(n)", "calcResult": \#(n)}"#)
                #expect(response.status == .created, "\(response.text)")
            }
            let newestFirst = (0..<105).reversed().map { Int64($0) }
            #expect(try await client.list().entries().map(\.result) == Array(newestFirst.prefix(10)))
            #expect(try await client.list("?limit=3").entries().map(\.calc) == ["n104", "n103", "n102"])
            #expect(try await client.list("?limit=100").entries().map(\.result) == Array(newestFirst.prefix(100)))
            #expect(try await client.list("?limit=1000").entries().count == 100)
            let entries = try await client.list("?limit=100").entries()
            #expect(zip(entries, entries.dropFirst()).allSatisfy { $0.ts >= $1.ts })
        }
    }

    @Test("bad limits are 400 with a message")
    func badLimits() async throws {
        let mongo = try await MongoServer.start()
        try await AuditHarness.withService(mongoPort: mongo.port) { client in
            for query in ["?limit=0", "?limit=-5", "?limit=abc", "?limit=2.5", "?limit="] {
                let response = try await client.list(query)
                #expect(response.status == .badRequest, "\(query): \(response.text)")
                #expect(try response.errorMessage().contains("limit must be a positive integer"))
            }
        }
    }

    @Test("every malformed append is 400 with a message saying what is wrong, and nothing is stored")
    func badAppends() async throws {
        let mongo = try await MongoServer.start()
        try await AuditHarness.withService(mongoPort: mongo.port) { client in
            try await client.waitUntilReady()
            let noBody = try await client.execute("POST", "/append")
            #expect(noBody.status == .badRequest)
            #expect(try noBody.errorMessage().contains("the body is empty"))
            let cases: [(String, String)] = [
                ("this is not json", "the body is not a JSON object"),
                ("{this is not json}", "not valid JSON"),
                (#"{"calc": "2+3", "calcResult": 5"#, "not valid JSON"),
                (#"{"calcResult": 5}"#, "calc is missing"),
                (#"{"calc": "", "calcResult": 5}"#, "calc must not be empty"),
                (#"{"calc": "2+3"}"#, "calcResult is missing"),
                (#"{"calc": "2+3", "calcResult": 5.5}"#, "calcResult must be an integer, not a floating-point number"),
                (#"{"calc": "2+3", "calcResult": 5.0}"#, "calcResult must be an integer, not a floating-point number"),
                (#"{"calc": "2+3", "calcResult": "5"}"#, "calcResult must be an integer, not a string"),
                (#"{"calc": "2+3", "calcResult": null}"#, "calcResult must be an integer, not null"),
                (#"{"calc": "2+3", "calcResult": 9223372036854775808}"#, "out of range"),
                (#"{"calc": "2+3", "calcResult": 99999999999999999999}"#, "outside the 64-bit integer range"),
            ]
            for (body, expected) in cases {
                let response = try await client.append(body)
                #expect(response.status == .badRequest, "\(body): \(response.text)")
                let message = try response.errorMessage()
                #expect(message.contains(expected), "\(body): \(message)")
            }
            #expect(try await client.list().entries().isEmpty)
        }
    }

    @Test("a body over 64 KiB is 413")
    func bodyTooLarge() async throws {
        let mongo = try await MongoServer.start()
        try await AuditHarness.withService(mongoPort: mongo.port) { client in
            try await client.waitUntilReady()
            let padding = String(repeating: "1", count: 64 * 1024)
            let response = try await client.append(#"{"calc": "\#(padding)", "calcResult": 1}"#)
            #expect(response.status == .payloadTooLarge, "\(response.status)")
            _ = try response.errorMessage()
            let justUnder = String(repeating: " ", count: 64 * 1024 - 40)
            let accepted = try await client.append(#"{"calc": "1", "calcResult": 1}"# + justUnder)
            #expect(accepted.status == .created, "\(accepted.text)")
        }
    }
}
