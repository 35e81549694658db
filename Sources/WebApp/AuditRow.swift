import Contracts
import Platform

/// One row of the audit table, as shown.
struct AuditRow: Sendable {
    let time: String
    let calc: String
    let result: String
}

extension AuditRow {
    /// `ts` is milliseconds since the epoch; shown as ISO-8601 in UTC (`2026-11-22T04:23:32Z`).
    init(_ entry: AuditList.Entry) {
        let date = Date(timeIntervalSince1970: Double(entry.ts) / 1000)
        self.init(time: date.formatted(.iso8601), calc: entry.calc, result: String(entry.result))
    }
}
