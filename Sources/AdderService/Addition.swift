/// The adderservice's arithmetic: strict base-10 64-bit integers, and a sum that is either exact
/// or refused — never a wrapped-around answer.
enum Addition {
    enum Failure: Error, Equatable, CustomStringConvertible {
        case notAnInteger(operand: String, text: String)
        case overflow

        var description: String {
            switch self {
            case .notAnInteger(let operand, let text):
                return "\(operand) operand \"\(text)\" is not a base-10 integer between \(Int64.min) and \(Int64.max)"
            case .overflow:
                return "the sum does not fit in a 64-bit integer"
            }
        }
    }

    /// `Int64(_:)` is exactly the contract: ASCII digits with an optional leading `+` or `-`, no
    /// spaces, no decimals, nil when out of range.
    static func operand(_ text: String, name: String) throws(Failure) -> Int64 {
        guard let value = Int64(text) else { throw .notAnInteger(operand: name, text: text) }
        return value
    }

    static func add(_ first: Int64, _ second: Int64) throws(Failure) -> Int64 {
        let (sum, overflow) = first.addingReportingOverflow(second)
        guard !overflow else { throw .overflow }
        return sum
    }

    /// Parses both operands and adds them.
    static func add(first: String, second: String) throws(Failure) -> Int64 {
        try add(operand(first, name: "first"), operand(second, name: "second"))
    }
}
