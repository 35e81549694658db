/// Many calculations to record in one request: auditservice's `POST /append/batch`, as the
/// webapp's outbox delivery sends it. The body wraps `/append` bodies, as stored, in one object:
/// `{"records": [{"id": "…", "calc": "2+3", "calcResult": 5}, …]}`. One request per batch instead
/// of one per record is what keeps delivery off the pages' core: a record's own HTTP round trip
/// cost the webapp a third of a calculation's instructions.
///
/// Each record is checked and stored as `POST /append` would (every one needs an id: a batch is
/// retried whole, so only ids keep a retry from doubling records). The answer is `200` with the
/// records refused, by index (`Reply`); every record not listed is stored, now or before. A body
/// that is not such an object is `400`, over `AuditAppend.maximumBodySize` `413`, and a database
/// that fails `503` (nothing refused: the whole batch is to be retried).
public enum AuditAppendBatch {
    public static let path = "/append/batch"
    /// The field holding the records.
    public static let recordsField = "records"
    /// Most records one batch may hold.
    public static let maximumRecords = 256

    /// The body for `records`, each an `/append` body (JSON object) as written or stored.
    public static func body(records: some Sequence<String>) -> String {
        #"{"records":["# + records.joined(separator: ",") + "]}"
    }

    /// The size of `body(records:)` for records of these sizes, in bytes.
    public static func bodySize(recordSizes: some Sequence<Int>) -> Int {
        var size = #"{"records":[]}"#.utf8.count
        var count = 0
        for recordSize in recordSizes {
            size += recordSize
            count += 1
        }
        return size + max(0, count - 1)
    }

    /// `{"refused": [{"index": 3, "error": "calc is missing"}]}`.
    public struct Reply: Codable, Sendable, Equatable {
        public struct Refusal: Codable, Sendable, Equatable {
            /// The record's position in the request's `records`, from 0.
            public let index: Int
            public let error: String

            public init(index: Int, error: String) {
                self.index = index
                self.error = error
            }
        }

        public let refused: [Refusal]

        public init(refused: [Refusal]) { self.refused = refused }
    }
}
