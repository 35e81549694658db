import CMongoc

/// An error from libmongoc, classified so callers can tell "the database is away" (answer 503,
/// retry later) from "the database refused this" (a bug or bad data).
public struct MongoError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        /// No server reachable: connection refused, socket error, server selection timed out.
        case unavailable
        /// The server answered with an error (unknown command, duplicate key, …).
        case server
        /// The server refused the credentials (or the server cannot authenticate at all).
        case authentication
        /// The URI or another argument was unusable.
        case invalidArgument
        /// A value could not be converted to or from BSON.
        case bson
    }

    public let kind: Kind
    /// libmongoc's error domain and code (0 when the error did not come from libmongoc).
    public let domain: UInt32
    public let code: UInt32
    public let message: String

    public init(kind: Kind, message: String, domain: UInt32 = 0, code: UInt32 = 0) {
        self.kind = kind
        self.message = message
        self.domain = domain
        self.code = code
    }

    /// True when retrying later, once the server is back, may succeed.
    public var isConnectionError: Bool { kind == .unavailable }

    /// A write refused because a unique index (`_id`'s, always there) already holds the key.
    public var isDuplicateKey: Bool { kind == .server && code == 11000 }

    public var description: String { "MongoDB: \(message)" }

    init(_ error: bson_error_t) {
        let domain = error.domain
        let kind: Kind =
            switch domain {
            case MONGOC_ERROR_CLIENT.rawValue where error.code == MONGOC_ERROR_CLIENT_AUTHENTICATE.rawValue: .authentication
            case MONGOC_ERROR_STREAM.rawValue, MONGOC_ERROR_SERVER_SELECTION.rawValue, MONGOC_ERROR_PROTOCOL.rawValue: .unavailable
            case MONGOC_ERROR_BSON.rawValue: .bson
            case MONGOC_ERROR_COMMAND.rawValue where error.code == MONGOC_ERROR_COMMAND_INVALID_ARG.rawValue: .invalidArgument
            default: .server
            }
        self.init(kind: kind, message: error.text, domain: domain, code: error.code)
    }

    init(_ error: BSONError) {
        self.init(kind: .bson, message: error.message)
    }

}
