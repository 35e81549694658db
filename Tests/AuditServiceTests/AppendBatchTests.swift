import Contracts
import Foundation
import NIOCore
import NIOHTTP1
import TestSupport
import Testing

@testable import AuditService

/// `POST /append/batch` against a real nx-27017: each record stored once, refused ones named by
/// index, the batch as a whole refused only when it is not a batch.
@Suite("auditservice batch append", .stopsServers)
struct AppendBatchTests {
    static func record(_ id: String?, _ calc: String, _ result: Int64) -> String {
        AuditAppend(id: id, calc: calc, result: result).json
    }

    @Test func validRecordsAreStoredOnceAndInvalidOnesRefusedByIndex() async throws {
        let mongo = try await MongoServer.start()
        try await AuditHarness.withService(mongoPort: mongo.port) { client in
            try await client.waitUntilReady()
            let records = [
                Self.record("b-1", "1+1", 2), #"{"id": "b-2", "calc": "2+2"}"#, Self.record(nil, "3+3", 6), "17",
                Self.record("b-5", "5+5", 10), Self.record("has space", "6+6", 12),
            ]
            let body = AuditAppendBatch.body(records: records)
            let response = try await client.appendBatch(body)
            #expect(response.status == .ok, "\(response.text)")
            let reply = try JSONDecoder().decode(AuditAppendBatch.Reply.self, from: Data(response.body.readableBytesView))
            #expect(reply.refused.map(\.index) == [1, 2, 3, 5], "\(reply)")
            #expect(reply.refused[0].error.contains("calcResult is missing"))
            #expect(reply.refused[1].error.contains("needs an id"))
            #expect(reply.refused[2].error.contains("must be an object"))
            #expect(reply.refused[3].error.contains("id must be"))
            #expect(Set(try await client.list().entries().map(\.calc)) == ["1+1", "5+5"])

            // The whole batch again, as a delivery whose answer was lost repeats it: nothing doubles.
            #expect(try await client.appendBatch(body).status == .ok)
            let more = AuditAppendBatch.body(records: [Self.record("b-1", "1+1", 2), Self.record("b-7", "7+7", 14)])
            #expect(try await client.appendBatch(more).status == .ok)
            #expect(try await client.list().entries().map(\.calc).sorted() == ["1+1", "5+5", "7+7"])
        }
    }

    @Test func aBatchOfManyConcurrentRecordsIsStoredWhole() async throws {
        let mongo = try await MongoServer.start()
        try await AuditHarness.withService(mongoPort: mongo.port) { client in
            try await client.waitUntilReady()
            let records = (0..<AuditAppendBatch.maximumRecords).map { Self.record("many-\($0)", "\($0)+0", Int64($0)) }
            let response = try await client.appendBatch(AuditAppendBatch.body(records: records))
            #expect(response.status == .ok, "\(response.text)")
            #expect(try await client.list("?limit=100").entries().count == 100)
            let tooMany = AuditAppendBatch.body(records: records + [Self.record("one-more", "1+0", 1)])
            let refused = try await client.appendBatch(tooMany)
            #expect(refused.status == .badRequest)
            #expect(try refused.errorMessage().contains("at most \(AuditAppendBatch.maximumRecords) records"))
        }
    }

    @Test func aBodyThatIsNotABatchIs400AndStoresNothing() async throws {
        let mongo = try await MongoServer.start()
        try await AuditHarness.withService(mongoPort: mongo.port) { client in
            try await client.waitUntilReady()
            let cases: [(String, String)] = [
                ("[]", "a JSON array, not an object"),
                (#"{"records": [{"id": "x", "calc": "1+1", "calcResult": 2}, not json]}"#, "not valid JSON"),
                (#"{"records": {"id": "x"}}"#, "records must be an array"),
                (#"{"record": []}"#, "records must be an array"),
            ]
            for (body, expected) in cases {
                let response = try await client.appendBatch(body)
                #expect(response.status == .badRequest, "\(body): \(response.text)")
                let message = try response.errorMessage()
                #expect(message.contains(expected), "\(body): \(message)")
            }
            let padding = String(repeating: " ", count: AuditAppend.maximumBodySize)
            #expect(try await client.appendBatch(#"{"records": []}"# + padding).status == .payloadTooLarge)
            #expect(try await client.list().entries().isEmpty)
        }
    }

    @Test func mongoGoneIs503AndTheRetriedBatchStoresEachRecordOnce() async throws {
        let mongo = try await MongoServer.start()
        try await AuditHarness.withService(mongoPort: mongo.port) { client in
            try await client.waitUntilReady()
            let body = AuditAppendBatch.body(records: [Self.record("r-1", "1+1", 2), Self.record("r-2", "2+2", 4)])
            await mongo.stop()
            let refused = try await client.appendBatch(body)
            #expect(refused.status == .serviceUnavailable, "\(refused.text)")
            #expect(try refused.errorMessage().contains("MongoDB"))
            try await mongo.restart()
            try await client.waitUntil("the batch is stored") { try await client.appendBatch(body).status == .ok }
            #expect(try await client.appendBatch(body).status == .ok)
            #expect(try await client.list().entries().map(\.calc).sorted() == ["1+1", "2+2"])
        }
    }
}
