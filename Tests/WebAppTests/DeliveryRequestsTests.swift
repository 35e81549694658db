import Contracts
import Testing

@testable import WebApp

/// How a round's outbox entries become `/append/batch` requests under auditservice's body limit.
struct DeliveryRequestsTests {
    static func entries(_ sizes: [Int]) -> [AuditOutbox.Entry] {
        sizes.enumerated().map { AuditOutbox.Entry(id: "\($0.offset)-0", body: String(repeating: "x", count: $0.element)) }
    }

    @Test func smallEntriesShareOneRequestUpToTheRecordLimit() {
        let requests = DeliveryRequests.split(Self.entries(Array(repeating: 100, count: 300)), bodyLimit: 64 * 1024)
        #expect(requests.map(\.count) == [AuditAppendBatch.maximumRecords, 300 - AuditAppendBatch.maximumRecords])
        #expect(requests.joined().map(\.id) == Self.entries(Array(repeating: 100, count: 300)).map(\.id), "in order, none lost")
    }

    @Test func eachRequestsBodyIsWithinTheLimitAndLargeEntriesGoAlone() {
        let limit = 1000
        let sizes = [400, 400, 400, 990, 10, 2000, 5]
        let requests = DeliveryRequests.split(Self.entries(sizes), bodyLimit: limit)
        #expect(requests.map { $0.map(\.body.utf8.count) } == [[400, 400], [400], [990], [10], [2000], [5]])
        for request in requests where request.count > 1 {
            #expect(AuditAppendBatch.body(records: request.map(\.body)).utf8.count <= limit)
            #expect(DeliveryRequests.fitsBatch(request, bodyLimit: limit))
        }
        #expect(!DeliveryRequests.fitsBatch(Self.entries([990]), bodyLimit: limit), "sent to /append instead")
        #expect(!DeliveryRequests.fitsBatch(Self.entries([2000]), bodyLimit: limit))
    }

    @Test func theBodySizeIsTheWrittenBodys() {
        for records in [[], ["{}"], ["{\"a\":1}", "{}", "{\"bb\":22}"]] {
            #expect(AuditAppendBatch.bodySize(recordSizes: records.map(\.utf8.count)) == AuditAppendBatch.body(records: records).utf8.count)
        }
    }
}
