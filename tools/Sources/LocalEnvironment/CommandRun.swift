import Foundation
import ProcessSupervision

/// A command run to its end (a build, `swift package dump-package`), with its output collected.
/// Spawned like the components, as a `SupervisedChild`.
struct CommandRun: Sendable {
    var status: ExitStatus
    /// stdout and stderr together, or stdout alone when `errorsToNull`.
    var output: [String]

    static func run(
        _ arguments: [String], workingDirectory: String, environment: [String: String], errorsToNull: Bool = false
    ) async -> CommandRun {
        let lines = Locked<[String]>([])
        let name = (arguments.first as NSString?)?.lastPathComponent ?? "command"
        do {
            let child = try SupervisedChild.start(
                arguments, environment: environment, workingDirectory: workingDirectory, name: name,
                output: .lines(drain: nil) { text in
                    lines.withLock { $0 += text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
                },
                errors: errorsToNull ? .discarded : .withOutput
            )
            let status = await child.waitForExit()
            return CommandRun(status: status, output: lines.withLock { $0 })
        } catch {
            return CommandRun(status: .exited(127), output: [error.description])
        }
    }
}
