import Contracts
import Testing

@testable import WebApp

/// How a round's outbox entries become `/append/batch` requests under auditservice's body limit.
struct DeliveryRequestTests {
    static func entries(_ sizes: [Int]) -> [AuditOutbox.Entry] {
        sizes.enumerated().map { AuditOutbox.Entry(id: "\($0.offset)-0", body: String(repeating: "x", count: $0.element)) }
    }

    @Test func smallEntriesShareOneRequestUpToTheRecordLimit() {
        let requests = DeliveryRequest.split(Self.entries(Array(repeating: 100, count: 300)), bodyLimit: 64 * 1024)
        #expect(requests.map(\.entries.count) == [AuditAppendBatch.maximumRecords, 300 - AuditAppendBatch.maximumRecords])
        #expect(requests.allSatisfy { if case .batch = $0 { true } else { false } })
        #expect(requests.flatMap(\.entries).map(\.id) == Self.entries(Array(repeating: 100, count: 300)).map(\.id), "in order, none lost")
    }

    @Test func eachRequestsBodyIsWithinTheLimitAndLargeEntriesGoAlone() {
        let limit = 1000
        let sizes = [400, 400, 400, 990, 10, 2000, 5]
        let requests = DeliveryRequest.split(Self.entries(sizes), bodyLimit: limit)
        #expect(requests.map { $0.entries.map(\.body.utf8.count) } == [[400, 400], [400], [990], [10], [2000], [5]])
        for case .batch(let entries) in requests {
            #expect(AuditAppendBatch.body(records: entries.map(\.body)).utf8.count <= limit)
        }
        let alone = requests.compactMap { if case .alone(let entry) = $0 { entry.body.utf8.count } else { nil } }
        #expect(alone == [990, 2000], "sent to /append instead")
    }

    @Test func theBodySizeIsTheWrittenBodys() {
        for records in [[], ["{}"], ["{\"a\":1}", "{}", "{\"bb\":22}"]] {
            #expect(AuditAppendBatch.bodySize(recordSizes: records.map(\.utf8.count)) == AuditAppendBatch.body(records: records).utf8.count)
        }
    }
}
