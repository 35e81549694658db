/// The adderservice's operand rules, checked before calling it so bad input never costs a
/// round trip nor an audit record: a base-10 integer with an optional sign, within Int64.
enum Operand {
    enum Problem: Equatable {
        case empty, notInteger, outOfRange
    }

    static func parse(_ text: String) -> Result<Int64, ProblemError> {
        if text.isEmpty { return .failure(ProblemError(.empty)) }
        let digits = text.first == "+" || text.first == "-" ? text.dropFirst() : Substring(text)
        guard !digits.isEmpty, digits.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return .failure(ProblemError(.notInteger))
        }
        // All digits, so the only way Int64.init fails is overflow.
        guard let value = Int64(text) else { return .failure(ProblemError(.outOfRange)) }
        return .success(value)
    }

    struct ProblemError: Error, Equatable {
        let problem: Problem
        init(_ problem: Problem) { self.problem = problem }

        /// The message shown above the form, naming the field.
        func message(field: String) -> String {
            switch problem {
            case .empty: "Enter the \(field) number."
            case .notInteger: "The \(field) number must be a whole number such as 42 or -7."
            case .outOfRange: "The \(field) number is too large: use a value between -9223372036854775808 and 9223372036854775807."
            }
        }
    }
}
