import Contracts
import Foundation
import MongoAdapter
import NIOHTTP1
import TestSupport
import Testing

@testable import AuditService

/// An append with an id is stored once, however often it is sent (against a real nx-27017).
@Suite("auditservice idempotent append", .stopsServers)
struct IdempotentAppendTests {
    @Test func theSameIDSentAgainStoresNothingAndAnswersWithTheFirstRecord() async throws {
        let mongo = try await MongoServer.start()
        try await AuditHarness.withService(mongoPort: mongo.port) { client in
            try await client.waitUntilReady()
            let body = #"{"id": "webapp-7f-1", "calc": "2+3", "calcResult": 5}"#
            let first = try await client.append(body)
            try await Task.sleep(for: .milliseconds(20))
            let again = try await client.append(body)
            #expect(first.status == .created, "\(first.text)")
            #expect(again.status == .created, "\(again.text)")
            let (stored, replayed) = (try first.jsonObject(), try again.jsonObject())
            #expect((replayed["ts"] as? NSNumber) == (stored["ts"] as? NSNumber), "the first record, same ts")
            #expect(replayed["calc"] as? String == "2+3")
            let other = try await client.append(#"{"id": "webapp-7f-2", "calc": "2+3", "calcResult": 5}"#)
            #expect(other.status == .created)
            #expect(try await client.list().entries().count == 2)
        }
    }

    @Test func concurrentRetriesOfOneIDStoreOneRecord() async throws {
        let mongo = try await MongoServer.start()
        try await AuditHarness.withService(mongoPort: mongo.port) { client in
            try await client.waitUntilReady()
            let statuses = try await withThrowingTaskGroup(of: HTTPResponseStatus.self) { group in
                for _ in 0..<10 {
                    group.addTask { try await client.append(#"{"id": "same", "calc": "1+1", "calcResult": 2}"#).status }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .created }, "\(statuses)")
            #expect(try await client.list().entries().map(\.calc) == ["1+1"])
        }
    }

    @Test(arguments: [
        #"{"id": "", "calc": "1+1", "calcResult": 2}"#, #"{"id": 7, "calc": "1+1", "calcResult": 2}"#,
        #"{"id": "has space", "calc": "1+1", "calcResult": 2}"#,
        #"{"id": "\#(String(repeating: "a", count: 65))", "calc": "1+1", "calcResult": 2}"#,
    ])
    func badIDsAre400(body: String) async throws {
        #expect(throws: InvalidAppendRequest.self) { try AuditAppend(body: Array(body.utf8)) }
    }

    @Test func anAppendWithoutAnIDIsStillAcceptedAsTheSeedsSendIt() throws {
        let request = try AuditAppend(body: Array(#"{"calc": "1+1", "calcResult": 2}"#.utf8))
        #expect(request == AuditAppend(id: nil, calc: "1+1", result: 2))
    }
}
