#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What to do with one message from the queue, decided in Swift before the apply script runs.
enum MessageDecision: Equatable, Sendable {
    case record(url: String)
    case summary(returnPath: String)
    case deadLetter(reason: String)

    /// Parses a queue message (the seeds' format):
    /// `{"action":"record","type":"page","url":"…"}` or `{"action":"summary","returnPath":"…"}`.
    static func decide(_ raw: String) -> MessageDecision {
        let message: QueueMessage
        do {
            message = try JSONDecoder().decode(QueueMessage.self, from: Data(raw.utf8))
        } catch {
            return .deadLetter(reason: QueueMessage.reason(for: error))
        }
        switch message.action {
        case nil:
            return .deadLetter(reason: "missing field \"action\"")
        case "record":
            guard let url = message.url, !url.isEmpty else { return .deadLetter(reason: "record without \"url\"") }
            return .record(url: url)
        case "summary":
            guard let path = message.returnPath, !path.isEmpty else {
                return .deadLetter(reason: "summary without \"returnPath\"")
            }
            return .summary(returnPath: path)
        case let action?:
            return .deadLetter(reason: "unknown action \"\(action)\"")
        }
    }
}

/// The fields the worker reads; others (`type`, …) are allowed and ignored.
private struct QueueMessage: Decodable {
    let action: String?
    let url: String?
    let returnPath: String?

    static func reason(for error: any Error) -> String {
        guard let error = error as? DecodingError else { return "not valid JSON" }
        switch error {
        case .typeMismatch(_, let context) where context.codingPath.isEmpty:
            return "not a JSON object"
        case .typeMismatch(_, let context):
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "field \"\(field)\" is not a string"
        default:
            return "not valid JSON"
        }
    }
}

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
