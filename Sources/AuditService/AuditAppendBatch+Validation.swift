import Contracts
import MongoAdapter

/// A `POST /append/batch` body, validated: each record checked as `POST /append` checks its body,
/// and each needing an id (a batch is retried whole). A record's fault refuses that record only.
struct ValidatedBatch {
    /// The records to store, with their index in the request.
    var records: [(index: Int, append: AuditAppend)] = []
    var refused: [AuditAppendBatch.Reply.Refusal] = []

    /// - Throws: `InvalidAppendRequest` when the body is not `{"records": [<object>, …]}` with at
    ///   most `AuditAppendBatch.maximumRecords` records.
    init(body: some Collection<UInt8>) throws(InvalidAppendRequest) {
        let document = try InvalidAppendRequest.document(body, expected: Self.expectedShape)
        guard case .array(let values) = document[AuditAppendBatch.recordsField] else {
            throw InvalidAppendRequest("records must be an array" + Self.expectedShape)
        }
        guard values.count <= AuditAppendBatch.maximumRecords else {
            throw InvalidAppendRequest("a batch holds at most \(AuditAppendBatch.maximumRecords) records, not \(values.count)")
        }
        for (index, value) in values.enumerated() {
            do throws(InvalidAppendRequest) {
                records.append((index, try Self.record(value)))
            } catch {
                refused.append(.init(index: index, error: error.message))
            }
        }
    }

    private static let expectedShape = #" (expected {"records": [{"id": "<id>", "calc": "<text>", "calcResult": <integer>}, …]})"#

    private static func record(_ value: BSONValue) throws(InvalidAppendRequest) -> AuditAppend {
        guard case .document(let document) = value else {
            throw InvalidAppendRequest("a record must be an object, not \(value.typeDescription)")
        }
        let append = try AuditAppend(document: document)
        guard append.id != nil else { throw InvalidAppendRequest("a batch's record needs an id") }
        return append
    }
}
