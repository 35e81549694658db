/// An error meaning "could not connect to this target": nothing was sent, so trying another
/// target is safe, even for a request that is not idempotent.
///
/// Classified by type, never by an error's text: the code that connects knows whether anything
/// was sent, and says so by throwing `ConnectFailed` (or an error type of its own that conforms);
/// `ServiceBalancer` fails over on these alone. Any other error, a library's own included, may
/// have come after the request reached the target.
public protocol ConnectionFailure: Error {
    /// True when this particular error happened before anything reached the target.
    var isConnectionFailure: Bool { get }
}

extension ConnectionFailure {
    public var isConnectionFailure: Bool { true }
}

/// A connect to `target` that failed — refused, unreachable, timed out or anything else before a
/// byte was sent — with the connector's own error.
public struct ConnectFailed: ConnectionFailure, CustomStringConvertible {
    public let target: ServiceTarget
    public let error: any Error

    public init(target: ServiceTarget, error: any Error) {
        self.target = target
        self.error = error
    }

    public var description: String { "cannot connect to \(target): \(error)" }
}

extension ServiceBalancer {
    /// True for "could not connect": a `ConnectionFailure` that says so.
    public static func isConnectionFailure(_ error: any Error) -> Bool {
        (error as? any ConnectionFailure)?.isConnectionFailure ?? false
    }
}
