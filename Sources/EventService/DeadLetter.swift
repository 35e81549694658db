import Platform

/// What goes to the dead-letter list: why, the message itself, and when.
struct DeadLetter: Encodable {
    let reason: String
    let message: String
    let deadLetteredAt: Int64

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Encoding three plain fields cannot fail; the fallback keeps the worker going regardless.
        guard let data = try? encoder.encode(self) else { return #"{"reason":"unencodable message"}"# }
        return String(decoding: data, as: UTF8.self)
    }
}
