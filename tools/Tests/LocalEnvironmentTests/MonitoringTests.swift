import AsyncHTTPClient
import ControlSocket
import Foundation
import LocalEnvironment
import NIOCore
import TestSupport
import Testing

/// Prometheus in the local environment: it finds every service through the local DNS's SRV
/// names and scrapes it, and a stopped service fires ServiceDown once the rule's `for:` has
/// passed — the shipped rules and configuration, with intervals of a second and ServiceDown's
/// `for:` of a minute made 3 s, so the test takes seconds.
@Suite(.stopsServers) struct MonitoringTests {
    static let entries = LocalSystemTests.entries
    static let forWindow: Duration = .seconds(3)

    @Test func prometheusScrapesEveryServiceAndStoppingAdderserviceFiresServiceDown() async throws {
        let project = try Self.fastProject()
        let free = FreePorts(Self.entries)
        let ports = free.ports
        let bin = URL(fileURLWithPath: try TestPaths.builtExecutable("localenv")).deletingLastPathComponent().path
        let run = try await LauncherRun(arguments: ["--fuge", project.fugePath, "--bin", bin, "--state", project.state] + free.arguments)
        try #require(await run.waitFor("micro is up", timeout: .seconds(90)), "\(run.log())")
        let prometheus = PrometheusAPI(port: ports["prometheus"] ?? 0)
        // Prometheus starts once the services are ready, not beside them.
        try #require(await run.waitFor("started prometheus (pid"), "\(run.log())")
        let log = run.log()
        let up = try #require(log.range(of: "micro is up")), started = try #require(log.range(of: "started prometheus (pid"))
        #expect(up.lowerBound < started.lowerBound, "\(log)")

        let targets = try await prometheus.targetsEventually { targets in targets.count == 4 && targets.allSatisfy { $0.health == "up" } }
        try #require(
            Set(targets.map { $0.labels["service"] ?? "" }) == ["adderservice", "auditservice", "eventservice", "webapp"], "\(targets)")
        #expect(targets.allSatisfy { $0.health == "up" }, "\(targets)")
        for target in targets {
            let service = target.labels["service"] ?? ""
            // Found through the cluster's DNS names, on the admin port the local DNS gives.
            #expect(target.scrapeUrl == "http://\(service).micro.svc.cluster.local:\(free.metrics[service] ?? 0)/metrics", "\(target)")
        }
        // Until its first scrapes Prometheus has no `up` series, and ServiceDown may be pending.
        // The scrapes stay in the services' log files, off the console.
        // A scrape's request line (its fields in key order: request_id between path and status).
        let scraped = { (log: String) in
            log.split(separator: "\n").contains { $0.contains(" path=/metrics ") && $0.contains(" status=200") }
        }
        #expect(!scraped(run.log()), "\(run.log())")
        let adderLog = try String(contentsOfFile: project.state + "/adderservice.log", encoding: .utf8)
        #expect(scraped(adderLog), "\(adderLog)")
        let cleared = try await prometheus.noServiceDownEventually()
        let active = try await prometheus.alerts()
        #expect(cleared, "\(active)")

        _ = try await control("stop adderservice", state: project.state)
        let stoppedAt = ContinuousClock.now
        var pendingAt: ContinuousClock.Instant?
        var firingAt: ContinuousClock.Instant?
        while firingAt == nil, ContinuousClock.now - stoppedAt < .seconds(30) {
            let down = try await prometheus.alerts().filter { $0.labels["alertname"] == "ServiceDown" }
            #expect(down.allSatisfy { $0.labels["service"] == "adderservice" }, "\(down)")
            if down.contains(where: { $0.state == "pending" }), pendingAt == nil { pendingAt = .now }
            if down.contains(where: { $0.state == "firing" }) { firingAt = .now }
            try await Task.sleep(for: .milliseconds(100))
        }
        let fired = try #require(firingAt, "ServiceDown did not fire for adderservice\n\(run.log())")
        #expect(pendingAt != nil, "ServiceDown was never pending before it fired")
        // Not before the for: window has passed; within it plus a scrape, an evaluation and slack.
        #expect(fired - stoppedAt >= Self.forWindow, "\(fired - stoppedAt)")
        #expect(fired - stoppedAt <= Self.forWindow + .seconds(6), "\(fired - stoppedAt)")

        _ = try await control("start adderservice", state: project.state)
        let resolved = try await prometheus.noServiceDownEventually()
        #expect(resolved, "ServiceDown still active after adderservice started again")
        #expect(await run.terminate() == 0, "\(run.log())")
    }

    /// Prometheus is not what the system needs: one that cannot start (here, a configuration it
    /// refuses) is given up on and left stopped, and everything else keeps running.
    @Test func aPrometheusThatCannotStartIsGivenUpOnAndTheRestKeepsRunning() async throws {
        let port = Ports.free()
        let project = try ScratchProject(
            fuge: ScratchProject.fuge(
                """
                marker:
                  type: process
                  path: ../
                  run: bin/marker
                  ports:
                    - main=\(port)
                prometheus:
                  type: container
                  image: prom/prometheus
                  ports:
                    - http=\(Ports.free())
                """),
            // A service stand-in: ready (the launcher probes GET /readyz) as long as it runs.
            scripts: ["marker": "exec python3 -m http.server \(port) --bind 127.0.0.1 --directory \"$(dirname \"$0\")/../www\""]
        )
        try FileManager.default.createDirectory(atPath: project.root + "/www", withIntermediateDirectories: true)
        try "ready\n".write(toFile: project.root + "/www/readyz", atomically: true, encoding: .utf8)
        try "scrape_configs: [{job_name: a}, {job_name: a}]\n".write(
            toFile: project.root + "/fuge/prometheus.yml", atomically: true, encoding: .utf8)
        let run = try await LauncherRun(arguments: [
            "--fuge", project.fugePath, "--state", project.state, "--max-start-failures", "2",
        ])
        #expect(await run.waitFor("the rest keeps running without prometheus"), "\(run.log())")
        #expect(run.log().contains("giving up on prometheus: it exited 2 times in a row before becoming ready"), "\(run.log())")
        try await Task.sleep(for: .seconds(1))
        #expect(run.process.isRunning && Ports.isListening(port), "\(run.log())")
        let table = try await control("ps", state: project.state).output
        #expect(table.split(separator: "\n").contains { $0.hasPrefix("prometheus ") && $0.contains(" stopped ") }, "\(table)")
        #expect(await run.terminate() == 0, "\(run.log())")
    }

    /// A copy of fuge/ (fuge.yml and prometheus.yml) with one-second intervals, and the rules with
    /// ServiceDown's `for:` shortened; every edit is checked to have happened, so a change of the
    /// shipped files cannot make this test quietly test something else.
    static func fastProject() throws -> ScratchProject {
        let root = TestPaths.packageRoot
        let fuge = try String(contentsOfFile: root + "/fuge/fuge.yml", encoding: .utf8)
        let project = try ScratchProject(fuge: fuge)
        // The launcher looks for nx-27017 in <root>/.tools, where scripts/setup put it.
        try FileManager.default.createSymbolicLink(atPath: project.root + "/.tools", withDestinationPath: root + "/.tools")
        // And for deployment/credentials.sh and the Redis users' template, which the local Redis runs with.
        try FileManager.default.createSymbolicLink(atPath: project.root + "/deployment", withDestinationPath: root + "/deployment")
        var config = try String(contentsOfFile: root + "/fuge/prometheus.yml", encoding: .utf8)
        config = try replacing(
            in: config,
            [
                ("scrape_interval: 5s", "scrape_interval: 1s"), ("evaluation_interval: 5s", "evaluation_interval: 1s"),
                ("refresh_interval: 5s", "refresh_interval: 1s"),
                ("../deployment/components/monitoring/rules/*.yml", project.root + "/rules/*.yml"),
            ])
        try config.write(toFile: project.root + "/fuge/prometheus.yml", atomically: true, encoding: .utf8)
        let rules = try String(contentsOfFile: root + "/deployment/components/monitoring/rules/micro.rules.yml", encoding: .utf8)
        let alert = try #require(rules.range(of: "- alert: ServiceDown\n"))
        let window = try #require(rules.range(of: "for: 1m\n", range: alert.upperBound..<rules.endIndex))
        try FileManager.default.createDirectory(atPath: project.root + "/rules", withIntermediateDirectories: true)
        try rules.replacingCharacters(in: window, with: "for: 3s\n")
            .write(toFile: project.root + "/rules/micro.rules.yml", atomically: true, encoding: .utf8)
        return project
    }

    static func replacing(in text: String, _ edits: [(String, String)]) throws -> String {
        var text = text
        for (old, new) in edits {
            try #require(text.contains(old), "fuge/prometheus.yml no longer has \(old)")
            text = text.replacingOccurrences(of: old, with: new)
        }
        return text
    }
}

/// Prometheus's HTTP API (`/api/v1/targets`, `/api/v1/alerts`).
struct PrometheusAPI {
    let port: Int

    struct Target: Decodable, CustomStringConvertible {
        let labels: [String: String]
        let scrapeUrl: String
        let health: String
        let lastError: String

        var description: String { "\(labels["service"] ?? "?") \(health) \(scrapeUrl) \(lastError)" }
    }

    struct Alert: Decodable, CustomStringConvertible {
        let labels: [String: String]
        let state: String

        var description: String { "\(labels["alertname"] ?? "?") \(labels["service"] ?? "") \(state)" }
    }

    private struct Reply<Payload: Decodable>: Decodable {
        let data: Payload
    }

    private struct Targets: Decodable { let activeTargets: [Target] }
    private struct Alerts: Decodable { let alerts: [Alert] }

    func targets() async throws -> [Target] {
        try await get("/api/v1/targets", as: Targets.self).activeTargets
    }

    func alerts() async throws -> [Alert] {
        try await get("/api/v1/alerts", as: Alerts.self).alerts
    }

    /// Asks every 200 ms until `done` holds (30 s at most); the last answer either way.
    func targetsEventually(_ done: ([Target]) -> Bool) async throws -> [Target] {
        var targets: [Target] = []
        for _ in 0..<150 {
            // Until its storage is ready Prometheus answers the API with a plain-text 503.
            if let answer = try? await self.targets() { targets = answer }
            if done(targets) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        return targets
    }

    /// True once no ServiceDown alert is pending or firing (30 s at most).
    func noServiceDownEventually() async throws -> Bool {
        for _ in 0..<150 {
            if let active = try? await alerts(), active.allSatisfy({ $0.labels["alertname"] != "ServiceDown" }) { return true }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }

    private func get<Payload: Decodable>(_ path: String, as: Payload.Type) async throws -> Payload {
        let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)"), timeout: .seconds(5))
        let body = try await response.body.collect(upTo: 4 << 20)
        return try JSONDecoder().decode(Reply<Payload>.self, from: Data(body.readableBytesView)).data
    }
}
