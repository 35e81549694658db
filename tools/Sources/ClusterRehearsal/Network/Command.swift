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

/// Runs short commands to completion with posix_spawn (`ProcessSupervision.Spawn`, not Foundation's
/// `Process`, for the reasons given there). The blocking read and waitpid happen on a thread of
/// their own, never on the cooperative pool.
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
        let pipe: (read: Int32, write: Int32)
        let pid: pid_t
        do {
            pipe = try Spawn.pipe()
            defer { close(pipe.write) }
            pid = try Spawn.start(arguments: arguments, environment: environment, workingDirectory: "/", output: pipe.write)
        } catch {
            throw RehearsalError(error.description)
        }
        return await withCheckedContinuation { continuation in
            let done = Locked(false)
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout.seconds) {
                if !done.withLock({ $0 }) { kill(pid, SIGKILL) }
            }
            Thread {
                let output = readAll(pipe.read)
                let status = Spawn.wait(pid)
                done.withLock { $0 = true }
                continuation.resume(returning: CommandOutput(status: status, output: output))
            }.start()
        }
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

    private static func readAll(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 8192)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            bytes += buffer[..<count]
        }
        close(fd)
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
