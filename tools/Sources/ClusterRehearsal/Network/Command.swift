import Foundation
import ProcessSupervision

#if canImport(Glibc)
import Glibc
#endif

/// Something the rehearsal could not do; the message says what and why.
public struct RehearsalError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// What a short command (ip, nft, nsupdate, an exec probe) printed and how it ended.
public struct CommandOutput: Sendable {
    public var status: ExitStatus
    public var output: String
    public var succeeded: Bool { status == .exited(0) }
}

/// Runs short commands to completion as `SupervisedChild`ren, like every other process the
/// tooling starts: their output is read and their exit awaited on threads of their own, never
/// on the cooperative pool.
enum Command {
    static let tools = ToolLocator(environment: ProcessInfo.processInfo.environment, projectRoot: FileManager.default.currentDirectoryPath)

    /// The full path of a tool, for posix_spawn (which does not search PATH).
    static func path(_ name: String) throws(RehearsalError) -> String {
        if name.hasPrefix("/") { return name }
        guard let path = tools.find(name) else { throw RehearsalError("\(name) is not installed: run scripts/setup") }
        return path
    }

    /// Runs `arguments` (the first is looked up on PATH); kills it after `timeout`.
    static func run(
        _ arguments: [String], environment: [String: String] = baseEnvironment, timeout: Duration = .seconds(30)
    ) async throws(RehearsalError) -> CommandOutput {
        var arguments = arguments
        arguments[0] = try path(arguments[0])
        let output = Locked<[String]>([])
        let child: SupervisedChild
        do {
            child = try SupervisedChild.start(
                arguments, environment: environment, workingDirectory: "/", name: (arguments[0] as NSString).lastPathComponent,
                output: .lines(drain: nil) { text in output.withLock { $0.append(text) } }
            )
        } catch {
            throw RehearsalError(error.description)
        }
        var status = await child.waitForExit(timeout: timeout)
        if status == nil {
            child.signal(SIGKILL)
            status = await child.waitForExit()
        }
        let text = output.withLock { $0.isEmpty ? "" : $0.joined(separator: "\n") + "\n" }
        return CommandOutput(status: status ?? .signalled(SIGKILL), output: text)
    }

    /// Runs and throws with its output when it does not exit 0.
    @discardableResult
    static func check(_ arguments: [String]) async throws(RehearsalError) -> String {
        let result = try await run(arguments)
        guard result.succeeded else {
            throw RehearsalError("\(arguments.joined(separator: " ")) failed (\(result.status)): \(result.output)")
        }
        return result.output
    }

    static let baseEnvironment: [String: String] = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"]
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
