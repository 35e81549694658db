/// One request to a running tool (`localenv`, `rehearse up`) over its control socket, and the
/// answer: one JSON line each way on one connection, which the server then closes.
public struct ControlRequest: Codable, Sendable, Equatable {
    /// What to do: `ps`, `restart`, `get-pods`, `apply`, … (each tool names its own).
    public var command: String
    /// Its operands; a rendered manifest for `rehearse apply` is one of them, so they may be large.
    public var arguments: [String]

    public init(command: String, arguments: [String] = []) {
        self.command = command
        self.arguments = arguments
    }
}

public struct ControlReply: Codable, Sendable, Equatable {
    /// What the command-line client prints.
    public var output: String
    /// The command-line client's exit status: 0 done, anything else refused or failed.
    public var exitCode: Int32

    public init(output: String, exitCode: Int32) {
        self.output = output
        self.exitCode = exitCode
    }

    public var ok: Bool { exitCode == 0 }

    public static func success(_ output: String) -> ControlReply { ControlReply(output: output, exitCode: 0) }
    public static func failure(_ output: String) -> ControlReply { ControlReply(output: output, exitCode: 1) }
}

/// Why a control request got no answer, or a server could not start.
public enum ControlSocketError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Nothing listens on the path: the tool is not running (or the path is wrong).
    case notRunning(path: String, reason: String)
    /// A server answers on the path already.
    case alreadyRunning(path: String)
    /// Connected, but the connection ended without a reply.
    case noAnswer(path: String, reason: String)
    case cannotListen(path: String, reason: String)

    public var description: String {
        switch self {
        case .notRunning(let path, let reason): "nothing answers on \(path) (\(reason))"
        case .alreadyRunning(let path): "\(path) answers already"
        case .noAnswer(let path, let reason): "no answer on \(path) (\(reason))"
        case .cannotListen(let path, let reason): "cannot listen on \(path): \(reason)"
        }
    }
}
