import Contracts
import MongoAdapter

/// A stored calculation is the document in `audit.audit`; its fields are the JSON `/list` returns.
extension AuditList.Entry {
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
