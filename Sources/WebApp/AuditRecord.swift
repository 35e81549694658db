/// A calculation to record in the history; `AuditRecorder` gives it its id.
struct AuditRecord: Sendable, Equatable {
    let calc: String
    let calcResult: Int64

    init(calc: String, calcResult: Int64) {
        self.calc = calc
        self.calcResult = calcResult
    }
}
