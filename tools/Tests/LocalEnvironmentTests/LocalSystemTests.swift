import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ProcessSupervision
import TestSupport
import Testing

/// README's promise, end to end: the launcher started as a newcomer would (fuge/fuge.yml, the
/// built binaries), then the calculator, the audit history, the report and Prometheus's targets,
/// then a clean stop.
@Suite(.stopsServers) struct LocalSystemTests {
    static let entries = ["adderservice", "auditservice", "eventservice", "webapp", "mongo", "redis", "prometheus"]

    @Test func theWholeSystemRunsLocallyAndStopsWithoutLeftovers() async throws {
        let free = FreePorts(Self.entries)
        let ports = free.ports
        let bin = URL(fileURLWithPath: try TestPaths.builtExecutable("localenv")).deletingLastPathComponent().path
        let state = TestPaths.temporaryDirectory(prefix: "system")
        let run = try await LauncherRun(
            arguments: [
                "--fuge", TestPaths.packageRoot + "/fuge/fuge.yml", "--bin", bin, "--state", state,
            ] + free.arguments)
        try #require(await run.waitFor("micro is up", timeout: .seconds(90)), "\(run.log())")
        let webapp = Webapp(port: ports["webapp"] ?? 0)

        #expect(try await get("http://127.0.0.1:\(ports["adderservice"] ?? 0)/add/2/3") == #"{"result":5}"#)
        _ = try await webapp.get("/add")
        let calculated = try await webapp.calculate(first: "2", second: "3")
        #expect(calculated.contains("2 + 3 = <strong>5</strong>"), "\(calculated)")
        #expect(await webapp.auditEventually(lists: "2+3", result: "5"), "\(run.log())")
        try await theCalculationsTraceIsInEveryServicesLog(state: state)

        let credentials = state + "/credentials"
        let report = try await reportEventually(dnsPort: run.dnsPort, bin: bin, credentials: credentials, matches: webapp.visits)
        #expect(report.matched, "expected \(webapp.visits.value) in:\n\(report.output)\n\(run.log())")
        try await expectRedisUsersHold(port: ports["redis"] ?? 0, credentials: credentials)

        // Prometheus, as fuge/prometheus.yml has it, finds and scrapes every service.
        let targets = try await PrometheusAPI(port: ports["prometheus"] ?? 0).targetsEventually { targets in
            targets.count == 4 && targets.allSatisfy { $0.health == "up" }
        }
        #expect(targets.count == 4 && targets.allSatisfy { $0.health == "up" }, "\(targets)")

        let children = run.startedPIDs()
        #expect(await run.terminate() == 0, "\(run.log())")
        for child in children {
            #expect(await processEnds(child.pid, timeout: .seconds(2)), "\(child.name) (pid \(child.pid)) outlived the launcher")
        }
        for (name, port) in ports.merging(free.metrics.map { ($0.key + ".metrics", $0.value) }) { first, _ in first } {
            #expect(!Ports.isListening(port), "\(name) still listens on \(port)")
        }
        #expect(!Ports.isListening(run.dnsPort))
    }

    /// README's way to follow a calculation: the trace id of the webapp's request line, then
    /// `localenv logs --trace <id>` prints the lines of every service that worked on it.
    func theCalculationsTraceIsInEveryServicesLog(state: String) async throws {
        let webappLog = (try? String(contentsOfFile: state + "/webapp.log", encoding: .utf8)) ?? ""
        let line = try #require(webappLog.split(separator: "\n").first { $0.contains("path=/add/calculate") }, "\(webappLog)")
        let traceID = try #require(line.split(separator: " ").first { $0.hasPrefix("trace_id=") }?.dropFirst("trace_id=".count), "\(line)")
        var output = ""
        let joined = await eventually(timeout: .seconds(10), poll: .milliseconds(250)) {
            output = (try? await localenv(["logs", "--trace", String(traceID), "--state", state]))?.output ?? ""
            let entries = Set(output.split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) })
            return entries.isSuperset(of: ["webapp", "adderservice", "auditservice", "eventservice"])
        }
        #expect(joined, "localenv logs --trace \(traceID):\n\(output)")
        #expect(output.contains("path=/add/2/3") && output.contains("path=/append") && output.contains("page event applied"), "\(output)")
    }

    /// Runs the report (the command the launcher prints) until its table has every visited page
    /// with the number of visits: events reach the eventservice asynchronously.
    func reportEventually(
        dnsPort: Int, bin: String, credentials: String, matches visits: Visits
    ) async throws -> (matched: Bool, output: String) {
        var output = ""
        for _ in 0..<40 {
            output = try await runReport(dnsPort: dnsPort, bin: bin, credentials: credentials)
            let counts = Self.counts(in: output)
            if visits.value.allSatisfy({ page, count in counts[page.path] == count }) {
                return (true, output)
            }
            try await Task.sleep(for: .milliseconds(250))
        }
        return (false, output)
    }

    /// The report as the launcher's announcement runs it: as the Redis user `report`.
    func runReport(dnsPort: Int, bin: String, credentials: String) async throws -> String {
        let password = try String(contentsOfFile: credentials + "/redis-report", encoding: .utf8)
        let environment = ProcessInfo.processInfo.environment.merging([
            "DNS_HOST": "127.0.0.1", "DNS_PORT": "\(dnsPort)", "REDIS_USERNAME": "report", "REDIS_PASSWORD": password,
        ]) { $1 }
        let result = try await CommandResult.execute(bin + "/report", [], environment: environment)
        return result.standardOutput + result.standardError
    }

    /// The local Redis runs with the project's users, as the cluster's does: redis-cli without
    /// credentials gets NOAUTH, and each service's user is held to its own keys and commands
    /// (the whole matrix: RedisAdapterTests' RedisACLTests).
    func expectRedisUsersHold(port: Int, credentials: String) async throws {
        func cli(_ user: String?, _ command: [String]) async throws -> String {
            var environment = ["PATH": "/usr/bin:/bin"]
            var arguments = ["-h", "127.0.0.1", "-p", "\(port)"]
            if let user {
                arguments += ["--user", user]
                environment["REDISCLI_AUTH"] = try String(contentsOfFile: credentials + "/redis-" + user, encoding: .utf8)
            }
            let result = try await CommandResult.execute(try TestPaths.tool("redis-cli"), arguments + command, environment: environment)
            return (result.standardOutput + result.standardError).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        #expect(try await cli(nil, ["PING"]).hasPrefix("NOAUTH"))
        #expect(try await cli(nil, ["HGETALL", "eventservice:counts"]).hasPrefix("NOAUTH"))
        #expect(try await cli("webapp", ["PING"]) == "PONG")
        #expect(try await cli("webapp", ["FLUSHALL"]).hasPrefix("NOPERM"))
        #expect(try await cli("webapp", ["DEL", "eventservice:counts"]).hasPrefix("NOPERM"))
        #expect(try await cli("webapp", ["HGETALL", "eventservice:counts"]).hasPrefix("NOPERM"))
        #expect(try await cli("webapp", ["SET", "elsewhere", "x"]).hasPrefix("NOPERM"))
        #expect(try await cli("report", ["HINCRBY", "eventservice:counts", "/", "1000"]).hasPrefix("NOPERM"))
        #expect(try await cli("eventservice", ["XLEN", "webapp:audit:outbox"]).hasPrefix("NOPERM"))
        #expect(try await cli("eventservice", ["DEL", "webapp:audit:pending"]).hasPrefix("NOPERM"))
    }

    /// `url  count` rows of the report's table.
    static func counts(in table: String) -> [String: Int] {
        var counts: [String: Int] = [:]
        for line in table.split(separator: "\n") {
            let words = line.split(separator: " ")
            guard words.count == 2, words[0].hasPrefix("/"), let count = Int(words[1]) else { continue }
            counts[String(words[0])] = count
        }
        return counts
    }
}

/// Page visits made by the test, by (port, path).
final class Visits: Sendable {
    struct Page: Hashable, Sendable {
        let port: Int
        let path: String
    }
    private let counts = Locked<[Page: Int]>([:])
    var value: [Page: Int] { counts.withLock { $0 } }
    func count(_ page: Page) { counts.withLock { $0[page, default: 0] += 1 } }
}

/// The webapp as a browser would use it, counting the pages it asks for.
struct Webapp {
    let port: Int
    let visits = Visits()

    func get(_ path: String) async throws -> String {
        visits.count(Visits.Page(port: port, path: path))
        return try await LocalEnvironmentTests.get("http://127.0.0.1:\(port)\(path)")
    }

    func calculate(first: String, second: String) async throws -> String {
        visits.count(Visits.Page(port: port, path: "/add/calculate"))
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/add/calculate")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: "first=\(first)&second=\(second)"))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return String(buffer: try await response.body.collect(upTo: 1 << 20))
    }

    /// The audit record is written in the background: ask /audit until the row is there.
    func auditEventually(lists calc: String, result: String) async -> Bool {
        for _ in 0..<40 {
            let page = (try? await get("/audit")) ?? ""
            if page.contains("<td class=\"calc\">\(calc)</td><td class=\"num\">\(result)</td>") { return true }
            try? await Task.sleep(for: .milliseconds(250))
        }
        return false
    }
}

func get(_ url: String) async throws -> String {
    let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(10))
    return String(buffer: try await response.body.collect(upTo: 1 << 20))
}
