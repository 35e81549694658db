import Foundation
import ProcessSupervision

/// Starts one long-running process inside a network namespace (the cluster DNS, and the pods of
/// the build-folder mode), as a `SupervisedChild`:
/// `ip netns exec <ns>` (which also bind-mounts the namespace's resolv.conf) then `setpriv`
/// (parent-death signal, and the pod's user and group when it has them) then the command — all
/// exec'd in turn, so the pid is the command's own. It leads its own process group; signals go
/// to the whole group.
enum ContainerProcess {
    /// - Parameters:
    ///   - write: each chunk of whole lines the process prints.
    ///   - onExit: once, on another thread, after it ended and its output was read.
    static func start(
        namespace: String, command: [String], environment: [String: String], workingDirectory: String,
        user: (uid: Int, gid: Int)?, name: String,
        write: @escaping @Sendable (String) -> Void, onExit: @escaping @Sendable (ExitStatus) -> Void
    ) throws(RehearsalError) -> SupervisedChild {
        _ = try Command.path("setpriv")  // without it the pod would run as root and outlive the rehearsal
        let arguments =
            [try Command.path("ip"), "netns", "exec", namespace]
            + ParentDeathSignal.wrap(command, signal: SIGKILL, user: user)
        do {
            return try SupervisedChild.start(
                arguments, environment: environment, workingDirectory: workingDirectory, name: name,
                output: .lines(write: write), onExit: onExit
            )
        } catch {
            throw RehearsalError("\(name): \(error)")
        }
    }
}
