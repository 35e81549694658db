import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A real server (redis-server, dnsmasq, nx-27017, one of our own executables) started by a test
/// on loopback. Its output goes to a log file the test can read when something fails.
public final class ServerProcess: @unchecked Sendable {
    // @unchecked: Foundation.Process is not Sendable; all mutation goes through `lock`.
    public let name: String
    public let port: Int
    public let logPath: String
    private let executable: String
    private let arguments: [String]
    private let environment: [String: String]?
    private let lock = NSLock()
    private var process: Process

    /// Starts `executable` and waits until `port` accepts TCP connections (or `readyTimeout` passes).
    public init(
        name: String, executable: String, arguments: [String], port: Int,
        environment: [String: String]? = nil, waitForPort: Bool = true, readyTimeout: Duration = .seconds(15)
    ) async throws {
        self.name = name
        self.port = port
        self.executable = executable
        self.arguments = arguments
        self.environment = environment
        self.logPath = TestPaths.temporaryDirectory(prefix: name) + "/\(name).log"
        self.process = Process()
        try launch()
        if waitForPort { try await waitUntilListening(timeout: readyTimeout) }
    }

    deinit { stop() }

    public var pid: Int32 { lock.withLock { process.processIdentifier } }
    public var isRunning: Bool { lock.withLock { process.isRunning } }

    /// The server's output so far, for failure messages.
    public func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// SIGTERM, then SIGKILL after `grace`; waits for the process to end.
    public func stop(grace: TimeInterval = 5) {
        let process = lock.withLock { self.process }
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(grace)
        while process.isRunning, Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// SIGKILL: the crash a test wants to survive.
    public func kill9() {
        let process = lock.withLock { self.process }
        guard process.isRunning else { return }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Sends a signal without waiting (SIGTERM during an in-flight request, say).
    public func signal(_ signal: Int32) {
        kill(pid, signal)
    }

    /// Waits for the process to exit on its own and returns its status (nil on timeout).
    public func waitForExit(timeout: Duration) async -> Int32? {
        let process = lock.withLock { self.process }
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            if ContinuousClock.now > deadline { return nil }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return process.terminationStatus
    }

    /// Starts the same command again on the same port (a dependency coming back after a restart).
    public func restart(readyTimeout: Duration = .seconds(15)) async throws {
        stop()
        try launch()
        try await waitUntilListening(timeout: readyTimeout)
    }

    private func launch() throws {
        let process = Process()
        // Foundation's Process starts children with almost every signal blocked (inherited from
        // its spawning thread), so SIGTERM never reached them and stop() always waited for its
        // SIGKILL. The child unblocks all signals before it execs the server.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", Self.unblockSignalsThenExec, executable] + arguments
        if let environment { process.environment = environment }
        FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        process.standardInput = FileHandle.nullDevice
        // A child inherits the spawning thread's signal mask, and Swift concurrency's threads
        // block nearly every signal: without this, servers never see SIGTERM and stop() always
        // waits out its grace before SIGKILL.
        var unblocked = sigset_t(), previous = sigset_t()
        sigemptyset(&unblocked)
        pthread_sigmask(SIG_SETMASK, &unblocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        try process.run()
        lock.withLock { self.process = process }
    }

    private static let unblockSignalsThenExec =
        "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])"

    private func waitUntilListening(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if Ports.isListening(port) { return }
            if !isRunning {
                throw TestSupportError("\(name) exited with status \(lock.withLock { process.terminationStatus }) before listening on \(port):\n\(log())")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestSupportError("\(name) did not listen on port \(port) within \(timeout):\n\(log())")
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
