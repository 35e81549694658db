import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TestSupport
import Testing

@testable import ClusterRehearsal

/// One rehearsed cluster for one scenario, in a fresh state folder, removed again afterwards. It
/// runs the images: the local overlay as deploy.sh rendered it with the digests of the pushed
/// images (REHEARSAL_MANIFESTS names that file; CI sets it after pushing), each container pulled
/// from the registry and run by podman. Without it (a quick run on a machine without the images),
/// the local overlay, rendered by kubectl, with the services built next to the tests.
struct RehearsedCluster {
    let cluster: Cluster
    let url: String
    let state: String

    /// The rendered manifests naming pushed images, when this run rehearses the images.
    static let imageManifests = ProcessInfo.processInfo.environment["REHEARSAL_MANIFESTS"].flatMap { $0.isEmpty ? nil : $0 }

    /// - Parameter change: an edit of the rendered manifests before they run (shorter probes, say).
    static func run(
        change: (inout ClusterManifest) -> Void = { _ in }, _ body: (RehearsedCluster) async throws -> Void
    ) async throws {
        let state = TestPaths.temporaryDirectory(prefix: "rehearsal")
        var manifest: ClusterManifest
        let runtime: ContainerRuntime
        if let file = imageManifests {
            manifest = try await ClusterManifest.load(file: file)
            runtime = .images
        } else {
            manifest = try await ClusterManifest.load(overlay: TestPaths.packageRoot + "/deployment/overlays/local")
            runtime = .buildFolder(URL(fileURLWithPath: try TestPaths.builtExecutable("webapp")).deletingLastPathComponent().path)
        }
        // Every scenario runs with the overlay's network policies enforced.
        try #require(!manifest.networkPolicies.isEmpty, "the rehearsed manifests have no NetworkPolicy")
        change(&manifest)
        let cluster = try await Cluster.start(ClusterOptions(manifest: manifest, runtime: runtime, stateDirectory: state, echoLogs: false))
        do {
            try await cluster.waitUntilSettled(timeout: .seconds(90))
            let url = try #require(await cluster.nodeURL(service: "webapp-external"))
            try await body(RehearsedCluster(cluster: cluster, url: url, state: state))
        } catch {
            await cluster.shutdown()
            try? FileManager.default.removeItem(atPath: state)
            throw error
        }
        await cluster.shutdown()
        try? FileManager.default.removeItem(atPath: state)
    }

    // MARK: requests from the host, to the node address

    func get(_ path: String, host: String? = nil) async throws -> (status: UInt, body: String) {
        var request = HTTPClientRequest(url: url + path)
        if let host { request.headers.replaceOrAdd(name: "Host", value: host) }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return (response.status.code, String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    func calculate(_ first: Int, _ second: Int) async throws -> (status: UInt, body: String) {
        var request = HTTPClientRequest(url: url + "/add/calculate")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: "first=\(first)&second=\(second)"))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
        return (response.status.code, String(buffer: try await response.body.collect(upTo: 1 << 20)))
    }

    /// Polls `condition` every 200 ms until it holds; false after `timeout`.
    func eventually(_ timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async rethrows -> Bool {
        try await TestSupport.eventually(timeout: timeout, poll: .milliseconds(200), condition)
    }

    func pods(_ workload: String) async -> [PodInfo] {
        await cluster.podList().filter { $0.workload == workload && $0.status != "Completed" && $0.status != "Error" }
    }

    /// The SRV targets the cluster DNS gives for a service right now, asked with dig.
    func srvTargets(_ service: String) async throws -> [String] {
        let answer = try await Command.check(["dig", "+short", "@10.213.0.2", "SRV", "_main._tcp.\(service).micro.svc.cluster.local"])
        return answer.split(separator: "\n").compactMap { $0.split(separator: " ").last.map(String.init) }
    }

    /// Runs the report Job and returns the counts it printed (url → count).
    func report() async throws -> [String: Int] {
        let result = try await cluster.runJob("report")
        #expect(result.succeeded, "report job: \(result.exitStatus)\n\(result.log)")
        var counts: [String: Int] = [:]
        for line in result.log.split(separator: "\n") {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count == 2, fields[0].hasPrefix("/"), let count = Int(fields[1]) { counts[String(fields[0])] = count }
        }
        return counts
    }

    /// How many `/add/…` requests each adderservice pod logged.
    func adderRequests() async -> [String: Int] {
        var counts: [String: Int] = [:]
        for pod in await cluster.podList() where pod.workload == "adderservice" {
            let log = (try? await cluster.logs(pod: pod.name)) ?? ""
            counts[pod.name] = log.split(separator: "\n").filter { $0.contains("path=/add/") }.count
        }
        return counts
    }

    /// Seconds from now until `workload` has `replicas` ready pods, none of them in `excluding`.
    func secondsUntilReplaced(_ workload: String, replicas: Int, excluding gone: Set<String>) async throws -> Double {
        let start = ContinuousClock.now
        let replaced = await eventually(.seconds(60)) {
            let ready = await pods(workload).filter { $0.ready && !gone.contains($0.name) }
            return ready.count >= replicas
        }
        #expect(replaced, "\(workload): no ready replacement within 60 s")
        return (ContinuousClock.now - start).seconds
    }
}

/// wrk posting the calculator form to the webapp through the node port.
struct Load {
    var requests = 0
    var non2xx = 0
    var socketErrors = 0
    /// Of the socket errors: connections the server closed with a request of wrk's unanswered.
    var readErrors = 0
    var requestsPerSecond = 0.0
    var output = ""
    var failed: Int { non2xx + socketErrors }

    static func run(_ cluster: RehearsedCluster, seconds: Int, connections: Int = 8) async throws -> Load {
        let script = cluster.state + "/calculate.lua"
        try """
        wrk.method = "POST"
        wrk.body = "first=20&second=22"
        wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
        """.write(toFile: script, atomically: true, encoding: .utf8)
        let result = try await Command.run(
            ["wrk", "-t2", "-c\(connections)", "-d\(seconds)s", "--timeout", "5s", "-s", script, cluster.url + "/add/calculate"],
            timeout: .seconds(seconds + 30)
        )
        return Load(output: result.output)
    }

    init(output: String) {
        self.output = output
        for line in output.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let numbers = line.split(whereSeparator: { !$0.isNumber && $0 != "." }).compactMap { Double($0) }
            if line.contains("requests in") { requests = Int(numbers.first ?? 0) }
            if line.hasPrefix("Non-2xx") { non2xx = Int(numbers.last ?? 0) }
            if line.hasPrefix("Socket errors") {
                socketErrors = Int(numbers.reduce(0, +))
                readErrors = Int(numbers[safe: 1] ?? 0)
            }
            if line.hasPrefix("Requests/sec") { requestsPerSecond = numbers.first ?? 0 }
        }
    }

    var summary: String {
        "\(requests) requests, \(failed) failed (\(non2xx) non-2xx, \(socketErrors) socket errors), \(String(format: "%.0f", requestsPerSecond)) req/s"
    }
}
