import Foundation
import ProcessSupervision

#if canImport(Glibc)
import Glibc
#endif

/// One long-running process inside a network namespace: `ip netns exec <ns>` (which also
/// bind-mounts the namespace's resolv.conf) then `setpriv` (parent-death signal, and the pod's
/// user and group when it has them) then the command — all exec'd in turn, so the pid is the
/// command's own. It leads its own process group; signals go to the whole group.
///
/// Spawned from `SpawnThread`: the parent-death signal belongs to the spawning thread (see there).
public final class ContainerProcess: Sendable {
    public let pid: Int32
    private let exitStatus: Locked<ExitStatus?>

    /// - Parameters:
    ///   - write: each chunk of whole lines the process prints.
    ///   - onExit: once, on another thread, after it ended and its output was read.
    static func start(
        namespace: String, command: [String], environment: [String: String], workingDirectory: String,
        user: (uid: Int, gid: Int)?, name: String,
        write: @escaping @Sendable (String) -> Void, onExit: @escaping @Sendable (ExitStatus) -> Void
    ) throws(RehearsalError) -> ContainerProcess {
        var arguments = [try Command.path("ip"), "netns", "exec", namespace, try Command.path("setpriv"), "--pdeathsig", "KILL"]
        if let user {
            arguments += ["--reuid", "\(user.uid)", "--regid", "\(user.gid)", "--clear-groups"]
        }
        arguments += ["--"] + command
        let spawnArguments = arguments
        let spawned = SpawnThread.shared.run { () -> Result<(pid_t, Int32), SpawnError> in
            Result { () throws(SpawnError) -> (pid_t, Int32) in
                let pipe = try Spawn.pipe()
                defer { close(pipe.write) }
                do throws(SpawnError) {
                    let pid = try Spawn.start(
                        arguments: spawnArguments, environment: environment, workingDirectory: workingDirectory, output: pipe.write
                    )
                    return (pid, pipe.read)
                } catch {
                    close(pipe.read)
                    throw error
                }
            }
        }
        let (pid, output): (pid_t, Int32)
        switch spawned {
        case .success(let value): (pid, output) = value
        case .failure(let error): throw RehearsalError("\(name): \(error)")
        }
        let status = Locked<ExitStatus?>(nil)
        let outputDone = DispatchSemaphore(value: 0)
        LineReader.start(descriptor: output, name: name, recent: RecentLines(limit: 1), write: write) { outputDone.signal() }
        let waiter = Thread {
            let exit = Spawn.wait(pid)
            // Let the reader reach the end of the output, not forever: a grandchild may hold the pipe.
            _ = outputDone.wait(timeout: .now() + 0.5)
            status.withLock { $0 = exit }
            onExit(exit)
        }
        waiter.name = "wait-\(name)"
        waiter.start()
        return ContainerProcess(pid: pid, exitStatus: status)
    }

    private init(pid: Int32, exitStatus: Locked<ExitStatus?>) {
        self.pid = pid
        self.exitStatus = exitStatus
    }

    public var isRunning: Bool { exitStatus.withLock { $0 == nil } }

    /// Signals the process group (its pid is the group id), or the process if the group is gone.
    public func signal(_ number: Int32) {
        guard isRunning else { return }
        if kill(-pid, number) != 0 { kill(pid, number) }
    }
}
