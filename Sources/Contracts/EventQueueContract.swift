/// The eventservice queue contract, shared by its producers (webapp, report) and its consumer
/// (eventservice). Messages are the seeds' JSON, plus an `id` on records:
///
/// - `{"action":"record","type":"page","url":"/add","id":"<unique>","traceparent":"00-…"}`: one
///   page event. The id makes a resend harmless (the worker applies each id once); seeds-style
///   records without an id are still counted, without that protection. The optional
///   `traceparent` (W3C Trace Context) is the page's span, which the worker's apply continues;
///   a record without one, or with one that is not valid, is counted all the same.
/// - `{"action":"summary","returnPath":"eventservice:reply:<suffix>","deadline":<ms>}`: the counts,
///   pushed to `returnPath`, which must lie in the queue's reply key space. The optional
///   `deadline` (milliseconds since the epoch by Redis's own clock, `TIME`) is when the asker
///   stops waiting: a request taken after it is discarded (and counted), not answered.
///
/// A message longer than `maximumMessageBytes` is never applied: it is dead-lettered with its
/// size and its first `deadLetterPrefixBytes` bytes.
public enum EventQueueContract {
    /// The Redis list producers LPUSH to: `eventservice`, as in the seeds.
    public static let queue = "eventservice"

    /// Longest message the eventservice applies: 64 KiB. The largest legitimate one (a record
    /// with a route and a UUID, a summary with a 128-byte suffix) is under 300 bytes.
    public static let maximumMessageBytes = 64 * 1024

    /// How much of an oversized message its dead letter keeps, so an operator can tell where it
    /// came from without the dead-letter list growing by its whole size.
    public static let deadLetterPrefixBytes = 256

    /// The key space summary replies may go to: `<queue>:reply:`. Nothing else is ever written
    /// or expired on behalf of a queue message.
    public static func replyPrefix(queue: String = queue) -> String { queue + ":reply:" }

    /// Longest reply suffix accepted (a UUID is 36 characters).
    public static let maximumReplySuffixLength = 128

    /// The reply key a report waits on; `suffix` is chosen by the report (a UUID).
    public static func replyPath(suffix: String, queue: String = queue) -> String { replyPrefix(queue: queue) + suffix }

    /// Whether `path` names a key in the reply key space: the prefix plus a non-empty suffix of
    /// at most `maximumReplySuffixLength` bytes.
    public static func isReplyPath(_ path: String, queue: String = queue) -> Bool {
        let prefix = replyPrefix(queue: queue)
        guard path.utf8.starts(with: prefix.utf8) else { return false }
        let suffixLength = path.utf8.count - prefix.utf8.count
        return suffixLength > 0 && suffixLength <= maximumReplySuffixLength
    }

    /// A `record` message. Written by hand, not with JSONEncoder: this runs once per page view
    /// and the encoder cost as much as the rest of the page's own work (bench/RESULTS.md).
    /// `traceparent` is left out when it is not one (55 bytes of `[0-9a-f-]`) or when it would
    /// take the message past `maximumMessageBytes`: the event matters more than its trace.
    public static func recordMessage(url: String, id: String, traceparent: String? = nil) -> String {
        var json = #"{"action":"record","type":"page","url":""#
        JSONString.appendEscaped(url, to: &json)
        json += #"","id":""#
        JSONString.appendEscaped(id, to: &json)
        if let traceparent, isTraceparentShaped(traceparent),
            json.utf8.count + traceparentField.utf8.count + traceparentLength + 2 <= maximumMessageBytes
        {
            json += traceparentField
            json += traceparent
        }
        json += #""}"#
        return json
    }

    /// `00-<32 hex>-<16 hex>-<2 hex>`.
    public static let traceparentLength = 55
    private static let traceparentField = #"","traceparent":""#

    /// Whether `text` has a traceparent's length and characters, which need no JSON escaping
    /// (the receiver still parses it: this only keeps other text out of the message).
    static func isTraceparentShaped(_ text: String) -> Bool {
        text.utf8.count == traceparentLength
            && text.utf8.allSatisfy {
                ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || ($0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "f"))
                    || $0 == UInt8(ascii: "-")
            }
    }

    /// A `summary` message asking for the counts on `returnPath`, unanswered after `deadline`
    /// (ms since the epoch, Redis's `TIME`) when one is given.
    public static func summaryMessage(returnPath: String, deadline: Int64? = nil) -> String {
        var json = #"{"action":"summary","returnPath":""#
        JSONString.appendEscaped(returnPath, to: &json)
        json += #"""#
        if let deadline { json += #","deadline":\#(deadline)"# }
        json += "}"
        return json
    }
}

/// The fields of a queue message the worker reads; others (`type`, …) are allowed and ignored.
public struct QueueMessage: Decodable, Sendable {
    public let action: String?
    public let url: String?
    public let returnPath: String?
    public let id: String?
    /// A summary's deadline, ms since the epoch by Redis's clock.
    public let deadline: Int64?
    /// A record's trace context, unparsed. Read leniently: a value that is not a string is
    /// ignored, never a reason to dead-letter the event it came with.
    public let traceparent: String?

    private enum CodingKeys: String, CodingKey {
        case action, url, returnPath, id, deadline, traceparent
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        action = try container.decodeIfPresent(String.self, forKey: .action)
        url = try container.decodeIfPresent(String.self, forKey: .url)
        returnPath = try container.decodeIfPresent(String.self, forKey: .returnPath)
        id = try container.decodeIfPresent(String.self, forKey: .id)
        deadline = try container.decodeIfPresent(Int64.self, forKey: .deadline)
        traceparent = try? container.decodeIfPresent(String.self, forKey: .traceparent)
    }
}
