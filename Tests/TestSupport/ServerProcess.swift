import Foundation
import ProcessSupervision

#if canImport(Glibc)
import Glibc
#endif

/// A real server (redis-server, dnsmasq, nx-27017, one of our own executables) started by a test
/// on loopback, as a `SupervisedChild`: its own process group, SIGKILL when the test process
/// dies, and its output (stdout and stderr) appended to a log file the test can read when
/// something fails. Waiting for it suspends the test; nothing polls a blocking call. It is
/// stopped when the test that started it ends (`ServerScope`), or else when nothing holds it.
public final class ServerProcess: Sendable {
    public let name: String
    public let port: Int
    /// A service's admin port (`/healthz`, `/readyz`, `/metrics`); for other servers, `port`.
    public let metricsPort: Int
    public let logPath: String
    private let arguments: [String]
    private let environment: [String: String]
    private let child: Locked<SupervisedChild?>

    /// Starts `executable` and waits until `port` and `metricsPort` accept TCP connections (or
    /// `readyTimeout` passes).
    public init(
        name: String, executable: String, arguments: [String], port: Int, metricsPort: Int? = nil,
        environment: [String: String]? = nil, waitForPort: Bool = true, readyTimeout: Duration = .seconds(15)
    ) async throws {
        self.name = name
        self.port = port
        self.metricsPort = metricsPort ?? port
        self.arguments = ParentDeathSignal.wrap([executable] + arguments, signal: SIGKILL)
        self.environment = environment ?? ProcessInfo.processInfo.environment
        self.logPath = TestPaths.temporaryDirectory(prefix: name) + "/\(name).log"
        child = Locked(nil)
        try launch()
        ServerScope.current?.add(self)
        if waitForPort { try await waitUntilListening(timeout: readyTimeout) }
    }

    /// Outside a `ServerScope` nothing waits for a server nobody holds: stopped without blocking
    /// the releasing thread.
    deinit { current?.stopInBackground(grace: .seconds(5)) }

    public var pid: Int32 { current?.pid ?? 0 }
    public var isRunning: Bool { current?.isRunning ?? false }

    /// The server's output so far, for failure messages.
    public func log() -> String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// SIGTERM, then SIGKILL after `grace`; returns once the process has ended. Suspends the
    /// test meanwhile (a service takes its one-second drain notice) without holding a thread.
    public func stop(grace: Duration = .seconds(5)) async {
        await current?.stop(grace: grace)
    }

    /// SIGKILL: the crash a test wants to survive. Returns once the process has ended.
    public func kill9() async {
        guard let child = current else { return }
        child.signal(SIGKILL)
        _ = await child.waitForExit()
    }

    /// Sends a signal without waiting (SIGTERM during an in-flight request, say).
    public func signal(_ signal: Int32) {
        current?.signal(signal)
    }

    /// Waits for the process to exit on its own and returns its exit code, or the signal that
    /// ended it (nil on timeout).
    public func waitForExit(timeout: Duration) async -> Int32? {
        guard let status = await current?.waitForExit(timeout: timeout) else { return nil }
        switch status {
        case .exited(let code): return code
        case .signalled(let signal): return signal
        }
    }

    /// Starts the same command again on the same port (a dependency coming back after a restart).
    public func restart(readyTimeout: Duration = .seconds(15)) async throws {
        await stop()
        try launch()
        try await waitUntilListening(timeout: readyTimeout)
    }

    private var current: SupervisedChild? { child.withLock { $0 } }

    private func launch() throws {
        let started = try SupervisedChild.start(arguments, environment: environment, name: name, output: .file(logPath))
        child.withLock { $0 = started }
    }

    private func waitUntilListening(timeout: Duration) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if Ports.isListening(port), Ports.isListening(metricsPort) { return }
            if let status = current?.status {
                throw TestSupportError("\(name) ended (\(status)) before listening on \(port):\n\(log())")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestSupportError("\(name) did not listen on ports \(port) and \(metricsPort) within \(timeout):\n\(log())")
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
