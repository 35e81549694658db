import Foundation
import ProcessSupervision

/// What a finished command printed and how it exited. The command runs as a `SupervisedChild`
/// with its output in files, not pipes, so nothing can block on a full pipe while we wait.
public struct CommandResult: Sendable {
    public let status: Int32
    public let standardOutput: String
    public let standardError: String
    /// It was still running at the timeout and was killed.
    public let timedOut: Bool

    /// Runs the command to its end; the calling task suspends meanwhile, holding no thread.
    /// `timeout`: SIGKILL to its process group then, and `timedOut` says so.
    public static func execute(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        workingDirectory: String? = nil, timeout: Duration = .seconds(120)
    ) async throws -> CommandResult {
        let run = try Run(executable, arguments, environment: environment, workingDirectory: workingDirectory)
        if await run.child.waitForExit(timeout: timeout) == nil {
            run.child.signal(SIGKILL)
            return run.result(await run.child.waitForExit(), timedOut: true)
        }
        return run.result(await run.child.waitForExit(), timedOut: false)
    }

    /// Exit code, or the number of the signal that ended it.
    static func code(_ status: ExitStatus?) -> Int32 {
        switch status {
        case .exited(let code): code
        case .signalled(let signal): signal
        case nil: -1
        }
    }
}

/// One started command and the files its output goes to.
private struct Run {
    let child: SupervisedChild
    let folder: String

    init(_ executable: String, _ arguments: [String], environment: [String: String]?, workingDirectory: String?) throws {
        folder = TestPaths.temporaryDirectory(prefix: "command")
        child = try SupervisedChild.start(
            [executable] + arguments, environment: environment ?? ProcessInfo.processInfo.environment,
            workingDirectory: workingDirectory ?? FileManager.default.currentDirectoryPath,
            name: (executable as NSString).lastPathComponent,
            output: .file(folder + "/stdout"), errors: .file(folder + "/stderr")
        )
    }

    func result(_ status: ExitStatus?, timedOut: Bool) -> CommandResult {
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func read(_ name: String) -> String { (try? String(contentsOfFile: folder + "/" + name, encoding: .utf8)) ?? "" }
        return CommandResult(
            status: CommandResult.code(status), standardOutput: read("stdout"), standardError: read("stderr"), timedOut: timedOut)
    }
}
