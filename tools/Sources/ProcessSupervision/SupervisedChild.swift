import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// One child process under supervision: spawned from `SpawnThread` (see there) by `Spawn` in a
/// process group of its own, its output read by a thread of its own or written by the child
/// straight into a file, and reaped by a thread of its own that blocks in waitpid(2) — so no
/// wait ever holds a thread of Swift's cooperative pool or an event loop, and one child's exit
/// is never noticed late because of another's. The launcher's components, the rehearsal's
/// containers, build commands and the tests' servers are all started through this type.
public final class SupervisedChild: Sendable {
    /// Where the child's stdout (and its stderr, unless discarded) goes.
    public enum Output: Sendable {
        /// Whole lines to `write`, on the reading thread. At the exit the reader gets up to
        /// `drain` to reach the end of the output (nil: until it does), since a grandchild may
        /// hold the pipe open.
        case lines(drain: Duration? = .milliseconds(500), write: @Sendable (String) -> Void)
        /// Appended to this file by the child itself: nothing to read, nothing lost at a crash.
        case file(String)
    }

    /// Where its stderr goes.
    public enum Errors: Sendable {
        case withOutput
        case discarded
        /// Appended to this file.
        case file(String)
    }

    public let pid: pid_t
    private let exit: ExitLatch
    private let recent: RecentLines

    /// Starts `arguments` (`arguments[0]` a path); `onExit` runs once, on the waiting thread, after
    /// the child ended and (for `.lines`) its output was read.
    public static func start(
        _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
        workingDirectory: String = FileManager.default.currentDirectoryPath, name: String,
        output: Output, errors: Errors = .withOutput, onExit: @escaping @Sendable (ExitStatus) -> Void = { _ in }
    ) throws(SpawnError) -> SupervisedChild {
        let spawned = SpawnThread.shared.run {
            spawn(arguments, environment: environment, workingDirectory: workingDirectory, output: output, errors: errors)
        }
        let (pid, reading) = try spawned.get()
        let child = SupervisedChild(pid: pid)
        let outputDone = DispatchSemaphore(value: 0)
        var drainLimit: Duration? = .zero
        if case .lines(let limit, let write) = output, let reading {
            drainLimit = limit
            LineReader.start(descriptor: reading, name: name, recent: child.recent, write: write) { outputDone.signal() }
        }
        let waiter = Thread { [exit = child.exit, drain = drainLimit] in
            let status = Spawn.wait(pid)
            if let drain {
                if drain > .zero { _ = outputDone.wait(timeout: .now() + drain.timeInterval) }
            } else {
                outputDone.wait()
            }
            exit.finish(status)
            onExit(status)
        }
        waiter.name = "wait-\(name)"
        waiter.start()
        return child
    }

    private init(pid: pid_t) {
        self.pid = pid
        exit = ExitLatch()
        recent = RecentLines(limit: 20)
    }

    /// How it ended; nil while it runs.
    public var status: ExitStatus? { exit.status }

    public var isRunning: Bool { exit.status == nil }

    /// The last lines it printed (`.lines` output only), for a message when it will not start.
    public var lastLines: [String] { recent.lines }

    /// Signals its whole process group (its pid is the group id), or the process alone if the
    /// group is gone; nothing once it has been reaped, so a reused pid is never signalled.
    public func signal(_ number: Int32) {
        guard isRunning else { return }
        if kill(-pid, number) != 0 { kill(pid, number) }
    }

    /// Suspends (no thread held) until it has ended.
    public func waitForExit() async -> ExitStatus {
        while true {
            if let status = await exit.wait(timeout: .seconds(3600)) { return status }
        }
    }

    /// Suspends until it ended or `timeout` passed (nil then).
    public func waitForExit(timeout: Duration) async -> ExitStatus? {
        await exit.wait(timeout: timeout)
    }

    /// SIGTERM to the group, SIGKILL after `grace` if it is still there; suspends (no thread
    /// held) until it ended, so a test stopping a draining service leaves the cooperative pool free.
    @discardableResult
    public func stop(grace: Duration) async -> ExitStatus {
        signal(SIGTERM)
        if let status = await waitForExit(timeout: grace) { return status }
        signal(SIGKILL)
        return await waitForExit()
    }

    /// SIGTERM to the group now, SIGKILL after `grace` if it is still there; returns at once
    /// (for an owner that goes away and waits for nothing).
    public func stopInBackground(grace: Duration) {
        signal(SIGTERM)
        Task {
            if await waitForExit(timeout: grace) == nil { signal(SIGKILL) }
        }
    }

    /// Runs on `SpawnThread`: the output pipe or file, then the spawn; returns the pid and the
    /// pipe's read end (nil for a file). Every descriptor opened here is closed here or handed on.
    private static func spawn(
        _ arguments: [String], environment: [String: String], workingDirectory: String, output: Output, errors: Errors
    ) -> Result<(pid_t, Int32?), SpawnError> {
        let target: (read: Int32?, write: Int32)
        switch output {
        case .lines:
            do {
                let pipe = try Spawn.pipe()
                target = (pipe.read, pipe.write)
            } catch {
                return .failure(error)
            }
        case .file(let path):
            let fd = openForAppending(path)
            guard fd >= 0 else {
                return .failure(SpawnError("cannot open \(path) for \(arguments[0]): \(String(cString: strerror(errno)))"))
            }
            target = (nil, fd)
        }
        defer { close(target.write) }
        let errorsTarget: Int32
        switch errors {
        case .withOutput: errorsTarget = -1
        case .discarded: errorsTarget = open("/dev/null", O_WRONLY | O_CLOEXEC)
        case .file(let path): errorsTarget = openForAppending(path)
        }
        defer { if errorsTarget >= 0 { close(errorsTarget) } }
        do {
            let pid = try Spawn.start(
                arguments: arguments, environment: environment, workingDirectory: workingDirectory,
                output: target.write, errors: errorsTarget >= 0 ? errorsTarget : nil
            )
            return .success((pid, target.read))
        } catch {
            if let read = target.read { close(read) }
            return .failure(error)
        }
    }
}

/// A file the child appends to; close-on-exec here, the spawn dups it onto stdout or stderr.
private func openForAppending(_ path: String) -> Int32 {
    open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
}

extension Duration {
    /// Seconds as a `TimeInterval`, for Dispatch and Foundation deadlines.
    var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
