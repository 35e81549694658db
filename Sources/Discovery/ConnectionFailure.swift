import NIOCore
import NIOPosix
import Platform

/// An error meaning "could not connect to this target": nothing was sent, so trying another
/// target is safe, even for a request that is not idempotent.
///
/// Discovery recognises NIO's connect errors itself (what the webapp's NIO client throws). Other
/// error types conform, so the balancer knows them without Discovery depending on every client
/// library. (A protocol rather than matching type names with `String(reflecting:)`: it is checked
/// by the compiler and survives renames in the libraries.)
public protocol ConnectionFailure: Error {
    /// True when this particular error happened before anything reached the target.
    var isConnectionFailure: Bool { get }
}

extension ConnectionFailure {
    public var isConnectionFailure: Bool { true }
}

extension ServiceBalancer {
    /// True for "could not connect": `ConnectionFailure` errors, NIO's `NIOConnectionError`
    /// (every address refused or unreachable), `ChannelError.connectTimeout`, and an `IOError`
    /// with ECONNREFUSED, EHOSTUNREACH or ENETUNREACH, or ETIMEDOUT from `connect`.
    /// A connection reset is not one: the request may already have been acted on.
    public static func isConnectionFailure(_ error: any Error) -> Bool {
        switch error {
        case let failure as any ConnectionFailure:
            return failure.isConnectionFailure
        case is NIOConnectionError:
            return true
        case ChannelError.connectTimeout:
            return true
        case let error as IOError:
            return isConnectErrno(error)
        default:
            return false
        }
    }

    private static func isConnectErrno(_ error: IOError) -> Bool {
        switch error.errnoCode {
        case ECONNREFUSED, EHOSTUNREACH, ENETUNREACH:
            return true
        case ETIMEDOUT:
            // NIO names the failing call in the description: "connect(descriptor:addr:size:)"
            // or "finishing a non-blocking connect failed".
            let description = "\(error)"
            return description.contains("connect(") || description.contains("non-blocking connect")
        default:
            return false
        }
    }
}
