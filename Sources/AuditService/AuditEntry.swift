import MongoAdapter

/// One stored calculation: the document in `audit.audit` and the JSON the API returns.
struct AuditEntry: Codable, Sendable, Equatable {
    /// Milliseconds since the epoch, when the service stored it.
    let ts: Int64
    let calc: String
    let result: Int64

    init(ts: Int64, calc: String, result: Int64) {
        self.ts = ts
        self.calc = calc
        self.result = result
    }

    /// The BSON document, with `ts` and `result` always stored as int64.
    var document: BSONDocument {
        ["ts": .int64(ts), "calc": .string(calc), "result": .int64(result)]
    }

    /// Reads a stored document; nil when it lacks a field or has one of the wrong type. Integers
    /// are read at either width because servers may narrow an int64 (nx-27017 does).
    init?(document: BSONDocument) {
        guard let ts = document["ts"]?.int64Value, let calc = document["calc"]?.stringValue,
            let result = document["result"]?.int64Value
        else { return nil }
        self.init(ts: ts, calc: calc, result: result)
    }
}

/// The body of `GET /list`.
struct AuditList: Codable, Sendable, Equatable {
    let list: [AuditEntry]
    init(list: [AuditEntry]) { self.list = list }
}
