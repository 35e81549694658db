import Synchronization

/// Request ids: a random per-process prefix and a counter, unique within the process's life and
/// across its restarts, without a random draw per request. The text is made only when asked
/// for: the request log line writes the counter's digits straight behind the prefix.
struct RequestID: Sendable, CustomStringConvertible {
    static let prefix: String = {
        let value = UInt64.random(in: 0...UInt64.max)
        let text = String(value, radix: 16)
        return String(repeating: "0", count: 16 - text.count) + text
    }()
    private static let counter = Atomic<UInt64>(0)

    let number: UInt64

    static func next() -> RequestID {
        RequestID(number: counter.wrappingAdd(1, ordering: .relaxed).newValue)
    }

    var description: String { Self.prefix + String(number, radix: 16) }

    /// The counter's hexadecimal digits, for a line that already ends in `prefix`.
    func appendCounter(to line: inout LogLine) {
        line.appendHexadecimal(number)
    }
}
