import AsyncHTTPClient
import ControlSocket
import Foundation
import LocalEnvironment
import NIOCore
import NIOHTTP1
import ProcessSupervision
import TestSupport
import Testing

/// Watch mode end to end, on this package: an edit in the adderservice's sources builds it
/// again (a debug build) and replaces the running one while a client calls it, directly and
/// through the webapp, in a loop — no request may fail; a broken edit reports the compiler's
/// error once and the old version keeps serving; the next good edit recovers.
///
/// The edit is a file the test adds to Sources/AdderService and removes at the end (waiting for
/// that rebuild too, so the binaries match the tree again).
@Suite(.loadTest) struct DevLoopTests {
    static let entries = ["adderservice", "auditservice", "eventservice", "webapp", "mongo", "redis", "prometheus"]
    static let probe = TestPaths.packageRoot + "/Sources/AdderService/WatchModeProbe.swift"

    @Test func anEditReplacesTheServiceWithoutAFailedRequestAndABrokenEditKeepsTheOldOne() async throws {
        try? FileManager.default.removeItem(atPath: Self.probe)
        defer { try? FileManager.default.removeItem(atPath: Self.probe) }
        let free = FreePorts(Self.entries)
        let ports = free.ports
        let bin = URL(fileURLWithPath: try TestPaths.builtExecutable("localenv")).deletingLastPathComponent().path
        let state = TestPaths.temporaryDirectory(prefix: "devloop")
        // --ignore-lock: `swift test` holds .build's lock while the tests run (and builds nothing meanwhile).
        let run = try await LauncherRun(
            arguments: [
                "--fuge", TestPaths.packageRoot + "/fuge/fuge.yml", "--bin", bin, "--state", state, "--watch",
                "--build-command", "swift build --ignore-lock",
            ] + free.arguments)
        try #require(await run.waitFor("micro is up", timeout: .seconds(90)), "\(run.log())")
        try #require(await run.waitFor("watching Sources/", timeout: .seconds(60)), "\(run.log())")
        let upAt = run.log().count
        let load = Load(adder: ports["adderservice"] ?? 0, webapp: ports["webapp"] ?? 0)
        let first = try #require(run.startedPIDs().last { $0.name == "adderservice" }?.pid)

        // A good edit: built, then the new process takes over once ready.
        var mark = run.log().count
        try "// Added by DevLoopTests: watch mode builds and replaces the adderservice.\n"
            .write(toFile: Self.probe, atomically: true, encoding: .utf8)
        let second = try await takeover(run, of: first, since: mark)
        #expect(await processEnds(first, timeout: .seconds(15)), "the replaced adderservice still runs")

        // A broken edit: one report with the compiler's error; the running version keeps serving.
        mark = run.log().count
        try "let watchModeProbe: Int = \"not a number\"\n".write(toFile: Self.probe, atomically: true, encoding: .utf8)
        #expect(await appeared(run, "build of adderservice failed", since: mark) != nil, "\(run.log())")
        try await Task.sleep(for: .seconds(1))
        let log = String(run.log().dropFirst(mark))
        #expect(log.components(separatedBy: "build of adderservice failed").count == 2, "one report: \(log)")
        let error = "WatchModeProbe.swift:1:27: error: cannot convert value of type 'String'"
        #expect(log.components(separatedBy: error).count == 2, "the compiler's error, once: \(log)")
        #expect(try await control("ps", state: state).output.contains(" \(second) "))

        // The next good save recovers.
        mark = run.log().count
        try FileManager.default.removeItem(atPath: Self.probe)
        _ = try await takeover(run, of: second, since: mark)

        let outcome = await load.stop()
        #expect(outcome.failures.isEmpty, "failed requests during the swaps: \(outcome.failures.prefix(5))")
        #expect(outcome.succeeded > 50, "the client kept calling: \(outcome.succeeded)")
        // The servers said nothing on the console meanwhile (their lines are in <state>/<name>.log).
        let serverLines = run.log().dropFirst(upAt).split(separator: "\n").filter {
            $0.hasPrefix("mongo ") || $0.hasPrefix("redis ") || $0.hasPrefix("dns ")
        }
        #expect(serverLines.isEmpty, "\(serverLines)")
        #expect(await run.terminate() == 0, "\(run.log())")
    }

    /// Waits for the build and the takeover of `previous` (in the log after `mark`); checks the
    /// new process served within two seconds of the build's end; returns its pid.
    func takeover(_ run: LauncherRun, of previous: Int32, since mark: Int) async throws -> Int32 {
        let builtAt = try #require(await appeared(run, "built adderservice", since: mark), "\(run.log())")
        let servingAt = try #require(await appeared(run, "; pid \(previous) drains", since: mark), "\(run.log())")
        #expect(servingAt - builtAt <= .seconds(2), "the new version served \(servingAt - builtAt) after the build")
        let line = try #require(run.log().split(separator: "\n").last { $0.contains("pid \(previous) drains") })
        let words = line.split(separator: " ")
        let index = try #require(words.firstIndex(of: "pid"))
        return try #require(Int32(words[index + 1]))
    }

    /// When `text` appeared in the launcher's output after its first `mark` characters.
    func appeared(_ run: LauncherRun, _ text: String, since mark: Int) async -> ContinuousClock.Instant? {
        let deadline = ContinuousClock.now + .seconds(300)
        while ContinuousClock.now < deadline {
            if run.log().dropFirst(mark).contains(text) { return .now }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }
}

/// Two clients in a loop until stopped: GET /add/2/3 on the adderservice and POST /add/calculate
/// on the webapp (which calls the adderservice); every failure is kept.
final class Load: Sendable {
    private let failures = Locked<[String]>([])
    private let succeeded = Locked(0)
    private let running = Locked(true)
    private let tasks: [Task<Void, Never>]

    init(adder: Int, webapp: Int) {
        let failures = failures
        let succeeded = succeeded
        let running = running
        let calls: [@Sendable () async throws -> String?] = [
            {
                let body = try await get("http://127.0.0.1:\(adder)/add/2/3")
                return body == #"{"result":5}"# ? nil : "adderservice answered \(body)"
            },
            {
                let page = try await Webapp(port: webapp).calculate(first: "2", second: "3")
                return page.contains("2 + 3 = <strong>5</strong>") ? nil : "webapp answered \(page.prefix(300))"
            },
        ]
        tasks = calls.map { call in
            Task {
                while running.withLock({ $0 }) {
                    do {
                        if let wrong = try await call() { failures.withLock { $0.append(wrong) } } else { succeeded.withLock { $0 += 1 } }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
    }

    func stop() async -> (failures: [String], succeeded: Int) {
        running.withLock { $0 = false }
        for task in tasks { await task.value }
        return (failures.withLock { $0 }, succeeded.withLock { $0 })
    }
}
