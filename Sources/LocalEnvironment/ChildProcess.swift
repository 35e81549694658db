import Foundation
import ProcessSupervision

#if canImport(Glibc)
import Glibc
#endif

/// One running child and the thread that waits for it.
///
/// Process groups: each child leads its own group, so a Ctrl-C in the terminal reaches only the
/// launcher, which then stops the children in order; signalling the group also reaches anything
/// a child started.
///
/// Orphans: a child gets SIGTERM when the launcher dies, even by SIGKILL, through the kernel's
/// parent-death signal. posix_spawn cannot call prctl(PR_SET_PDEATHSIG) between fork and exec,
/// so each child runs under util-linux's `setpriv --pdeathsig TERM`, which sets it and execs the
/// real command (same pid, no extra process). Children are spawned from `SpawnThread` (why: see there).
final class ChildProcess: Sendable {
    let pid: Int32
    private let status: Locked<ExitStatus?>
    private let recent: RecentLines

    /// Starts `spec`; its output goes to `log` line by line. `onExit` runs once, on another
    /// thread, after the process ended and its output was read to the end.
    static func start(
        _ spec: ComponentSpec, environment: [String: String], log: ComponentLog,
        onExit: @escaping @Sendable (ExitStatus) -> Void
    ) throws(LauncherError) -> ChildProcess {
        let arguments = wrapped([spec.executable] + spec.arguments)
        let environment = environment.filter { !spec.removedEnvironment.contains($0.key) }.merging(spec.environment) { $1 }
        let (pid, output) = try spawn(arguments, environment: environment, workingDirectory: spec.workingDirectory)
        let recent = RecentLines(limit: 20)
        let exitStatus = Locked<ExitStatus?>(nil)
        let outputDone = DispatchSemaphore(value: 0)
        LineReader.start(descriptor: output, name: spec.name, recent: recent, write: { log.write($0) }) {
            outputDone.signal()
        }
        let waiter = Thread {
            let status = Spawn.wait(pid)
            exitStatus.withLock { $0 = status }
            // Output may still be in the pipe: let the reader reach the end (not forever: a
            // grandchild could hold the pipe open).
            _ = outputDone.wait(timeout: .now() + 0.5)
            onExit(status)
        }
        waiter.name = "localenv-wait-\(spec.name)"
        waiter.start()
        return ChildProcess(pid: pid, status: exitStatus, recent: recent)
    }

    private init(pid: Int32, status: Locked<ExitStatus?>, recent: RecentLines) {
        self.pid = pid
        self.status = status
        self.recent = recent
    }

    var isRunning: Bool { status.withLock { $0 == nil } }

    /// The last lines the child printed, for the message when it will not start.
    var lastLines: [String] { recent.lines }

    /// Signals the child's whole process group (its pid is the group id, see above).
    func signalGroup(_ signal: Int32) {
        if kill(-pid, signal) != 0 { kill(pid, signal) }
    }

    /// Spawns on `SpawnThread`; returns the pid and the read end of its output pipe.
    private static func spawn(
        _ arguments: [String], environment: [String: String], workingDirectory: String
    ) throws(LauncherError) -> (pid_t, Int32) {
        try SpawnThread.shared.run {
            spawnHere(arguments, environment: environment, workingDirectory: workingDirectory)
        }.get()
    }

    private static func spawnHere(
        _ arguments: [String], environment: [String: String], workingDirectory: String
    ) -> Result<(pid_t, Int32), LauncherError> {
        let pipe: (read: Int32, write: Int32)
        do {
            pipe = try Spawn.pipe()
        } catch {
            return .failure(LauncherError(error.description))
        }
        defer { close(pipe.write) }
        do {
            let pid = try Spawn.start(
                arguments: arguments, environment: environment, workingDirectory: workingDirectory, output: pipe.write
            )
            return .success((pid, pipe.read))
        } catch {
            close(pipe.read)
            return .failure(LauncherError(error.description))
        }
    }

    private static let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }

    private static func wrapped(_ command: [String]) -> [String] {
        guard let setpriv else { return command }
        return [setpriv, "--pdeathsig", "TERM", "--"] + command
    }
}
