/// The body of auditservice's `GET /list?limit=N`, newest calculation first, as auditservice
/// writes it and the webapp reads it: `{"list": [{"ts": 1764000000000, "calc": "2+3", "result": 5}]}`.
public struct AuditList: Codable, Sendable, Equatable {
    public static let path = "/list"
    /// Entries listed when the request gives no `limit`.
    public static let defaultLimit = 10
    /// The most entries one request gets; a larger `limit` is capped to this.
    public static let maximumLimit = 100

    /// One stored calculation.
    public struct Entry: Codable, Sendable, Equatable {
        /// Milliseconds since the epoch, when auditservice stored it.
        public let ts: Int64
        public let calc: String
        public let result: Int64

        public init(ts: Int64, calc: String, result: Int64) {
            self.ts = ts
            self.calc = calc
            self.result = result
        }
    }

    public let list: [Entry]

    public init(list: [Entry]) { self.list = list }
}
