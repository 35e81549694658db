/// One Redis reply (RESP2), with bulk strings decoded as UTF-8.
public enum RedisValue: Sendable, Equatable {
    case status(String)
    case error(String)
    case integer(Int64)
    case bulk(String)
    case null
    case array([RedisValue])
}

extension RedisValue {
    /// The text of a bulk or status reply.
    public var string: String? {
        switch self {
        case .bulk(let text), .status(let text): text
        default: nil
        }
    }

    public var integer: Int64? {
        if case .integer(let number) = self { return number }
        return nil
    }

    public var array: [RedisValue]? {
        if case .array(let values) = self { return values }
        return nil
    }

    public var isNull: Bool { self == .null }
}

/// Why a Redis call failed. `isConnectionError` separates "Redis could not be reached or the
/// connection broke" (retry elsewhere or later) from "Redis answered with an error" (a bug or bad
/// input: retrying will not help).
public struct RedisError: Error, CustomStringConvertible, Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Connect failed, the connection broke or timed out, the endpoint could not be resolved,
        /// or the connection was closed.
        case connection
        /// Redis replied with an error (`-ERR …`, `-NOSCRIPT …`, `-WRONGTYPE …`, `-NOPERM …`).
        case reply
        /// Redis refused the client's credentials (AUTH answered `-WRONGPASS`), or wants some
        /// (`-NOAUTH`): a configuration error that reconnecting does not mend.
        case authentication
        /// The call was malformed before it reached Redis (an empty command).
        case usage
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var isConnectionError: Bool { kind == .connection }

    /// The error for an error reply: `-NOAUTH` (credentials needed and not given) is an
    /// authentication failure, anything else a reply error.
    static func reply(_ message: String) -> RedisError {
        RedisError(message.hasPrefix("NOAUTH") ? .authentication : .reply, message)
    }

    public var description: String {
        switch kind {
        case .connection: "Redis connection error: \(message)"
        case .reply: "Redis error reply: \(message)"
        case .authentication: "Redis authentication failed: \(message)"
        case .usage: "Redis usage error: \(message)"
        }
    }
}
