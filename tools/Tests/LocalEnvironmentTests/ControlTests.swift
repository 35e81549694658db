import ControlSocket
import Foundation
import LocalEnvironment
import TestSupport
import Testing

/// `localenv ps|stop|start|restart|logs` against a running launcher, and the servers' output kept
/// out of the console.
@Suite(.stopsServers) struct ControlTests {
    @Test func psStopStartRestartAndLogsSteerTheRunningLauncher() async throws {
        let redisPort = Ports.free()
        let state = TestPaths.temporaryDirectory(prefix: "control")
        let run = try await LauncherRun(arguments: [
            "--fuge", TestPaths.packageRoot + "/fuge/fuge.yml", "--state", state, "--only", "redis",
            "--port", "redis=\(redisPort)",
        ])
        try #require(await run.waitFor("micro is up"), "\(run.log())")

        // ps, timed as the client sees it: the median of ten, since each one spawns a process and
        // one spawn on a busy machine (the suites run in parallel) says nothing about the launcher.
        var times: [Duration] = []
        var table = ""
        for _ in 0..<10 {
            let started = ContinuousClock.now
            table = try await control("ps", state: state).output
            times.append(ContinuousClock.now - started)
        }
        let median = times.sorted()[times.count / 2]
        #expect(median <= .milliseconds(100), "ps times: \(times.sorted())")
        let redis = try #require(table.split(separator: "\n").first { $0.hasPrefix("redis ") }, "\(table)")
        let firstPID = try #require(run.startedPIDs().last { $0.name == "redis" }?.pid)
        #expect(
            redis.contains(" ready ") && redis.contains(" \(firstPID) ") && redis.contains(" \(redisPort) ") && redis.contains(" MB "),
            "\(table)")

        // The server's own lines are in its file, not on the console; where the file is, is.
        #expect(
            run.log().contains("started redis (pid \(firstPID)); its output: \(state)/redis.log (warnings and errors shown here)"),
            "\(run.log())")
        #expect(!run.log().contains("Ready to accept connections"), "\(run.log())")
        let logs = try await localenv(["logs", "redis", "--state", state, "--grep", "Ready to accept"])
        #expect(logs.status == 0 && logs.output.contains("Ready to accept connections"), "\(logs.output)")

        // logs -f: what the next redis processes print arrives as they print it.
        let follower = try await ServerProcess(
            name: "logs-follow", executable: try TestPaths.builtExecutable("localenv"),
            arguments: ["logs", "redis", "-f", "--state", state, "--grep", "Ready to accept"], port: 0, waitForPort: false
        )
        let stopped = try await control("stop redis", state: state)
        #expect(stopped.ok, "\(stopped.output)")
        #expect(await eventually(timeout: .seconds(10)) { !Ports.isListening(redisPort) })
        #expect(await eventually { (try? await control("ps", state: state).output)?.contains(" stopped ") == true })
        #expect(try await control("start redis", state: state).ok)
        #expect(await run.waitFor("redis is ready again"), "\(run.log())")
        #expect(try await control("restart redis", state: state).ok)
        #expect(await eventually(timeout: .seconds(10)) { run.startedPIDs().filter { $0.name == "redis" }.count == 3 }, "\(run.log())")

        #expect(
            await eventually(timeout: .seconds(10)) {
                follower.log().components(separatedBy: "Ready to accept connections").count == 4
            }, "three redis processes, each ready once: \(follower.log())")
        #expect(!follower.log().contains("Server initialized"), "--grep: \(follower.log())")

        let unknown = try await localenv(["restart", "nothing", "--state", state])
        #expect(unknown.status == 1 && unknown.output.contains("no entry nothing is running here"), "\(unknown.output)")
        #expect(await run.terminate() == 0, "\(run.log())")
        let gone = try await localenv(["ps", "--state", state])
        #expect(gone.status == 1 && gone.output.contains("no localenv is running"), "\(gone.output)")
    }
}

/// The built `localenv` with these arguments: exit status and output (stdout, then stderr).
func localenv(_ arguments: [String]) async throws -> (status: Int32, output: String) {
    let result = try await CommandResult.execute(try TestPaths.builtExecutable("localenv"), arguments)
    return (result.status, result.standardOutput + result.standardError)
}
