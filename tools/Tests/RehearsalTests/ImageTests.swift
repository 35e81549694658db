import Foundation
import TestSupport
import Testing

@testable import ClusterRehearsal

/// The kubelet's image side: pulls, pull errors, and containers run as their pod spec says.
/// Nested in `ScenarioTests` so it never runs beside another rehearsal (same names, addresses).
extension ScenarioTests {
    @Suite(.serialized) struct ImageTests {
        static let missingDigest = "sha256:" + String(repeating: "0", count: 64)

        /// A Deployment of one replica named `name`, its container's remaining fields
        /// `container` (YAML lines at the container's indentation, after its name).
        static func deployment(_ name: String, container: String) -> String {
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: \(name)}
            spec:
              replicas: 1
              selector: {matchLabels: {app: \(name)}}
              template:
                metadata: {labels: {app: \(name)}}
                spec:
                  containers:
                    - name: \(name)
            \(container.split(separator: "\n").map { "          " + $0 }.joined(separator: "\n"))
            """
        }

        /// One Deployment whose image no registry holds.
        static let unpullable = deployment("ghost", container: "image: localhost:5000/never-pushed@\(missingDigest)")

        @Test("a pod whose image cannot be pulled: ErrImagePull, then ImagePullBackOff, and the rollout says so within 30 s")
        func unpullableImage() async throws {
            let (failure, took, backOff) = try await Self.rollOut(Self.unpullable, state: "rehearsal-pull", timeout: .seconds(30)) {
                cluster in
                let found = await TestSupport.eventually(timeout: .seconds(10), poll: .milliseconds(200)) {
                    await cluster.podList().contains {
                        $0.workload == "ghost" && $0.status == "ImagePullBackOff" && $0.message?.contains("never-pushed") == true
                    }
                }
                return (found: found, pods: await cluster.podList())
            }
            print("rehearsal: an unpullable image reported after \(String(format: "%.1f", took)) s: \(failure)")
            #expect(!failure.isEmpty, "the rollout of an image no registry holds succeeded")
            #expect(
                failure.contains("deployment/ghost") && failure.contains("ErrImagePull") && failure.contains("never-pushed"), "\(failure)")
            #expect(took < 30)
            #expect(backOff.found, "\(backOff.pods)")
        }

        @Test(
            "every pod runs from its image, pulled by digest, as its manifest says: user, read-only root, no capabilities, seccomp, memory limit, env",
            .enabled(if: RehearsedCluster.imageManifests != nil, "needs the pushed images (REHEARSAL_MANIFESTS)")
        )
        func podsRunAsTheirManifestSays() async throws {
            try await RehearsedCluster.run { rehearsal in
                let manifest = try await ClusterManifest.load(file: RehearsedCluster.imageManifests)
                for pod in await rehearsal.cluster.podList() where pod.status == "Running" {
                    let workload = try #require(manifest.workload(pod.workload))
                    let container = try #require(workload.template.containers.first)
                    let process = try await RunningContainer.inspect("mr-" + pod.name)
                    // podman names a Docker Hub image in full: docker.io/library/redis:7.4.
                    #expect(
                        process.image == container.image || process.image.hasSuffix("/" + container.image), "\(pod.name): \(process.image)")
                    if ["adderservice", "auditservice", "eventservice", "webapp"].contains(pod.workload) {
                        #expect(container.image.contains("@sha256:"), "\(pod.name): \(container.image) is not pinned by digest")
                        #expect(process.environment["DNS_NAMESPACE"] == "micro", "\(pod.name)")
                    }
                    #expect(
                        process.status["Uid"]?.split(separator: "\t").allSatisfy { Int($0) == workload.template.runAsUser } == true,
                        "\(pod.name): \(process.status["Uid"] ?? "")")
                    #expect(process.status["CapEff"] == "0000000000000000", "\(pod.name)")
                    #expect(process.status["NoNewPrivs"] == "1", "\(pod.name)")
                    #expect(process.status["Seccomp"] == "2", "\(pod.name): seccomp filter mode")
                    let readOnly = process.rootIsReadOnly, memory = process.memoryLimit
                    #expect(readOnly, "\(pod.name)")
                    #expect(memory == container.memoryLimit, "\(pod.name)")
                    print(
                        "rehearsal: \(pod.name) runs \(process.image) as uid \(workload.template.runAsUser ?? -1), read-only root, no capabilities, seccomp, memory ≤ \(process.memoryLimit ?? 0)"
                    )
                }
            }
        }

        @Test(
            "a rollout to an image that cannot be pulled fails naming it, and the running version keeps serving",
            .enabled(if: RehearsedCluster.imageManifests != nil, "needs the pushed images (REHEARSAL_MANIFESTS)")
        )
        func failedRolloutKeepsTheRunningVersion() async throws {
            try await RehearsedCluster.run { rehearsal in
                let before = await rehearsal.pods("webapp")
                let text = try String(contentsOfFile: try #require(RehearsedCluster.imageManifests), encoding: .utf8)
                let broken = text.replacingOccurrences(
                    of: #"(image: [^\s]*/webapp)@sha256:[0-9a-f]+"#, with: "$1@\(Self.missingDigest)", options: .regularExpression)
                #expect(broken != text)
                var failure = ""
                do {
                    _ = try await rehearsal.cluster.apply(try ClusterManifest(yaml: broken), timeout: .seconds(30))
                } catch {
                    failure = "\(error)"
                }
                #expect(
                    failure.contains("deployment/webapp") && failure.contains("ErrImagePull") && failure.contains(Self.missingDigest),
                    "\(failure)")
                let after = await rehearsal.pods("webapp")
                #expect(after.contains { old in old.ready && before.contains { $0.name == old.name } }, "\(after)")
                #expect(try await rehearsal.get("/add").status == 200)
                print("rehearsal: a webapp rollout to a missing image: \(failure); the old webapp pod still serves")
            }
        }
    }
}

extension ScenarioTests.ImageTests {
    /// One Deployment whose container exits at once, before its readiness probe can pass (without
    /// one it would count as ready, and the rollout as done, as in Kubernetes): a stand-in image
    /// that is on the node.
    static let crashing = deployment(
        "crasher",
        container: """
            image: redis:7.4
            command: ["sh", "-c", "echo giving up; exit 3"]
            readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
            """
    )

    /// Applies `yaml` to an empty cluster that runs images, in a state folder of its own:
    /// the rollout's error ("" when it succeeded), how long it took in seconds, and what
    /// `inspect` found before the cluster stopped.
    static func rollOut<Found: Sendable>(
        _ yaml: String, state prefix: String, timeout: Duration, inspect: (Cluster) async -> Found
    ) async throws -> (failure: String, took: Double, found: Found) {
        let state = TestPaths.temporaryDirectory(prefix: prefix)
        defer { try? FileManager.default.removeItem(atPath: state) }
        let cluster = try await Cluster.start(
            ClusterOptions(manifest: ClusterManifest(), runtime: .images, stateDirectory: state, echoLogs: false))
        let start = ContinuousClock.now
        var failure = ""
        do {
            _ = try await cluster.apply(try ClusterManifest(yaml: yaml), timeout: timeout)
        } catch {
            failure = "\(error)"
        }
        let took = (ContinuousClock.now - start).seconds
        let found = await inspect(cluster)
        await cluster.shutdown()
        return (failure, took, found)
    }

    @Test(
        "a rollout whose new pod keeps crashing fails, naming it, after three exits in a row",
        .enabled(if: RehearsedCluster.imageManifests != nil, "needs the redis:7.4 stand-in on the node")
    )
    func crashLoopingRollout() async throws {
        let (failure, took, pods) = try await Self.rollOut(Self.crashing, state: "rehearsal-crash", timeout: .seconds(60)) {
            cluster in await cluster.podList()
        }
        print("rehearsal: a crash-looping pod reported after \(String(format: "%.1f", took)) s: \(failure)")
        #expect(
            failure.contains("deployment/crasher") && failure.contains("CrashLoopBackOff") && failure.contains("exit status 3"),
            "\(failure)")
        #expect(pods.first?.restarts ?? 0 >= 3, "\(pods)")
    }

    @Test("rollout restart: redis (Recreate) never runs twice, mongo (StatefulSet) comes back on its volume")
    func recreateAndStatefulSetRollouts() async throws {
        try await RehearsedCluster.run { rehearsal in
            #expect(try await rehearsal.calculate(31, 11).status == 200)
            let stored = try await rehearsal.eventually { try await rehearsal.get("/audit").body.contains("31+11") }
            #expect(stored)
            let before = await rehearsal.cluster.podList()
            let watching = Task {
                var most = 0
                while !Task.isCancelled {
                    // Terminating ones too: their container runs until it is gone.
                    most = max(most, await rehearsal.pods("redis").count)
                    try? await Task.sleep(for: .milliseconds(50))
                }
                return most
            }
            try await rehearsal.cluster.restart("redis")
            try await rehearsal.cluster.restart("mongo")
            watching.cancel()
            let mostRedis = await watching.value
            let after = await rehearsal.cluster.podList()
            for workload in ["redis", "mongo"] {
                let old = before.first { $0.workload == workload }, new = after.first { $0.workload == workload && $0.status == "Running" }
                #expect(
                    new?.ready == true && new?.templateHash != old?.templateHash,
                    "\(workload): \(String(describing: old)) → \(String(describing: new))")
            }
            #expect(mostRedis == 1, "redis pods at once: \(mostRedis)")
            let intact = try await rehearsal.eventually { try await rehearsal.get("/audit").body.contains("31+11") }
            #expect(intact, "the audit history did not survive mongo's restart")
            print(
                "rehearsal: redis (Recreate) and mongo (StatefulSet) restarted: at most \(mostRedis) redis pod at a time, the audit history intact"
            )
        }
    }
}

/// What the kernel says about a container's main process (podman inspect for its pid).
struct RunningContainer {
    var image: String
    var status: [String: String]
    var environment: [String: String]
    var rootIsReadOnly: Bool
    var memoryLimit: Int64?

    static func inspect(_ name: String) async throws -> RunningContainer {
        let fields = try await Command.check(["podman", "inspect", "--format", "{{.State.Pid}} {{.ImageName}}", name])
            .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ").map(String.init)
        let pid = try #require(fields.first)
        let proc = "/proc/\(pid)"
        var status: [String: String] = [:]
        for line in try String(contentsOfFile: proc + "/status", encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { status[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces) }
        }
        var environment: [String: String] = [:]
        for entry in try Data(contentsOf: URL(fileURLWithPath: proc + "/environ")).split(separator: 0) {
            let parts = String(decoding: entry, as: UTF8.self).split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { environment[parts[0]] = parts[1] }
        }
        // mountinfo: "id parent major:minor root mountpoint options …"; the container's / is mount point "/".
        let mounts = try String(contentsOfFile: proc + "/mountinfo", encoding: .utf8).split(separator: "\n")
        let root = mounts.map { $0.split(separator: " ") }.last { $0.count > 5 && $0[4] == "/" }
        // cgroup v1: "N:memory:/path" names the folder under /sys/fs/cgroup/memory.
        let cgroup = try String(contentsOfFile: proc + "/cgroup", encoding: .utf8).split(separator: "\n")
            .first { $0.split(separator: ":").dropFirst().first == "memory" }.map { String($0.split(separator: ":", maxSplits: 2)[2]) }
        let limit = cgroup.flatMap { try? String(contentsOfFile: "/sys/fs/cgroup/memory\($0)/memory.limit_in_bytes", encoding: .utf8) }
        return RunningContainer(
            image: fields.count > 1 ? fields[1] : "", status: status, environment: environment,
            rootIsReadOnly: root.map { $0[5].split(separator: ",").contains("ro") } ?? false,
            memoryLimit: limit.flatMap { Int64($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        )
    }
}
