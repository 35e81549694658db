import Foundation
import ProcessSupervision

#if canImport(Glibc)
import Glibc
#endif

/// A command run to its end (a build, `swift package dump-package`), with its output collected.
/// Spawned like the components (own process group, from `SpawnThread`), waited for on a thread.
struct CommandRun: Sendable {
    var status: ExitStatus
    /// stdout and stderr together, or stdout alone when `errorsToNull`.
    var output: [String]

    static func run(
        _ arguments: [String], workingDirectory: String, environment: [String: String], errorsToNull: Bool = false
    ) async -> CommandRun {
        await withCheckedContinuation { (done: CheckedContinuation<CommandRun, Never>) in
            let spawned = SpawnThread.shared.run {
                spawn(arguments, workingDirectory: workingDirectory, environment: environment, errorsToNull: errorsToNull)
            }
            switch spawned {
            case .failure(let error):
                done.resume(returning: CommandRun(status: .exited(127), output: [error.description]))
            case .success(let (pid, output)):
                collect(pid: pid, output: output, name: (arguments.first as NSString?)?.lastPathComponent ?? "command", done: done)
            }
        }
    }

    private static func spawn(
        _ arguments: [String], workingDirectory: String, environment: [String: String], errorsToNull: Bool
    ) -> Result<(pid_t, Int32), SpawnError> {
        let pipe: (read: Int32, write: Int32)
        do {
            pipe = try Spawn.pipe()
        } catch {
            return .failure(error)
        }
        defer { close(pipe.write) }
        let null = errorsToNull ? open("/dev/null", O_WRONLY | O_CLOEXEC) : -1
        defer { if null >= 0 { close(null) } }
        do {
            let pid = try Spawn.start(
                arguments: arguments, environment: environment, workingDirectory: workingDirectory,
                output: pipe.write, errors: null >= 0 ? null : nil
            )
            return .success((pid, pipe.read))
        } catch {
            close(pipe.read)
            return .failure(error)
        }
    }

    private static func collect(pid: pid_t, output: Int32, name: String, done: CheckedContinuation<CommandRun, Never>) {
        let lines = Locked<[String]>([])
        let outputDone = DispatchSemaphore(value: 0)
        LineReader.start(descriptor: output, name: name, recent: RecentLines(limit: 1), write: { text in
            lines.withLock { $0 += text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) }
        }) { outputDone.signal() }
        let waiter = Thread {
            let status = Spawn.wait(pid)
            outputDone.wait()
            done.resume(returning: CommandRun(status: status, output: lines.withLock { $0 }))
        }
        waiter.name = "localenv-wait-\(name)"
        waiter.start()
    }
}
