import Contracts
import Platform

/// What to do with one message from the queue, decided in Swift before the apply script runs.
enum MessageDecision: Equatable, Sendable {
    /// A page event; `id` is nil for seeds-style records, which are counted without dedupe;
    /// `traceparent` as the message carries it, unparsed (the worker parses it when it traces).
    case record(url: String, id: String?, traceparent: String? = nil)
    /// `deadline`: ms since the epoch by Redis's clock, after which the asker no longer waits.
    case summary(returnPath: String, deadline: Int64?)
    case deadLetter(reason: String)

    /// Parses a queue message (`EventQueueContract`). A summary's return path must lie in the
    /// reply key space of `queue`: a message never gets to name another key.
    static func decide(_ raw: String, queue: String = EventQueueContract.queue) -> MessageDecision {
        let message: QueueMessage
        do {
            message = try JSONDecoder().decode(QueueMessage.self, from: Data(raw.utf8))
        } catch {
            return .deadLetter(reason: reason(for: error))
        }
        switch message.action {
        case nil:
            return .deadLetter(reason: "missing field \"action\"")
        case "record":
            guard let url = message.url, !url.isEmpty else { return .deadLetter(reason: "record without \"url\"") }
            if let id = message.id, id.isEmpty { return .deadLetter(reason: "record with an empty \"id\"") }
            return .record(url: url, id: message.id, traceparent: message.traceparent)
        case "summary":
            guard let path = message.returnPath, !path.isEmpty else {
                return .deadLetter(reason: "summary without \"returnPath\"")
            }
            guard EventQueueContract.isReplyPath(path, queue: queue) else {
                let prefix = EventQueueContract.replyPrefix(queue: queue)
                return .deadLetter(reason: "returnPath outside the reply key space (\(prefix)<1 to 128 bytes>)")
            }
            return .summary(returnPath: path, deadline: message.deadline)
        case let action?:
            return .deadLetter(reason: "unknown action \"\(action)\"")
        }
    }

    private static func reason(for error: any Error) -> String {
        guard let error = error as? DecodingError else { return "not valid JSON" }
        switch error {
        case .typeMismatch(_, let context) where context.codingPath.isEmpty:
            return "not a JSON object"
        case .typeMismatch(let expected, let context):
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "field \"\(field)\" is not \(expected == String.self ? "a string" : "an integer")"
        default:
            return "not valid JSON"
        }
    }
}
