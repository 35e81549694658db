@testable import ClusterRehearsal
import Foundation
import Testing
import TestSupport

/// The manifest model read from the real rendered overlay (never a copy of the topology).
@Suite struct ManifestTests {
    static func local() async throws -> ClusterManifest {
        try await ClusterManifest.load(overlay: TestPaths.packageRoot + "/deployment/overlays/local")
    }

    @Test func theLocalOverlayHasEveryWorkloadAndService() async throws {
        let manifest = try await Self.local()
        #expect(Set(manifest.workloads.map(\.name)) == ["adderservice", "auditservice", "eventservice", "webapp", "mongo", "redis", "report"])
        #expect(manifest.workload("mongo")?.kind == .statefulSet)
        #expect(manifest.workload("mongo")?.serviceName == "mongo")
        #expect(manifest.workload("mongo")?.claimTemplates == ["data"])
        #expect(manifest.workload("report")?.kind == .job)
        #expect(manifest.workload("report")?.backoffLimit == 3)
        #expect(manifest.workload("report")?.template.restartPolicy == .never)
        #expect(manifest.workload("redis")?.strategy == .recreate)
        #expect(manifest.workload("webapp")?.strategy == .standard)
        #expect(manifest.ignored == ["PersistentVolumeClaim/redis-data"])
    }

    @Test func servicesAreHeadlessOrHaveAnAddressAndTheWebappANodePort() async throws {
        let manifest = try await Self.local()
        for name in ["adderservice", "auditservice", "eventservice", "mongo"] {
            #expect(manifest.service(name)?.kind == .headless, "\(name)")
        }
        #expect(manifest.service("redis")?.kind == .clusterIP)
        let webapp = try #require(manifest.service("webapp"))
        #expect(webapp.kind == .nodePort)
        #expect(webapp.ports == [ServicePort(name: "http", port: 3000, targetPort: .name("http"), nodePort: 30080)])
    }

    @Test func containersCarryProbesLifecycleAndVolumes() async throws {
        let manifest = try await Self.local()
        let adder = try #require(manifest.workload("adderservice")?.template)
        let container = try #require(adder.containers.first)
        #expect(container.port(.name("main")) == 8080)
        #expect(container.preStopSleepSeconds == 7)
        #expect(adder.terminationGracePeriodSeconds == 20)
        #expect(adder.runAsUser == 10001)
        guard case .httpGet(let path, let port) = container.readiness?.action else { Issue.record("readiness is not httpGet"); return }
        #expect(path == "/readyz" && port == .name("main"))
        #expect(container.liveness?.initialDelaySeconds == 5)
        #expect(container.environment.first { $0.name == "DNS_HOST" } == nil)
        let redis = try #require(manifest.workload("redis")?.template)
        #expect(redis.volumes.contains(Volume(name: "data", source: .claim("redis-data"))))
        guard case .exec(let command) = redis.containers.first?.readiness?.action else { Issue.record("redis readiness"); return }
        #expect(command == ["redis-cli", "ping"])
    }

    @Test func rollingUpdateLimitsRoundAsKubernetesDoes() {
        #expect(IntOrPercent.percent(25).resolve(1, roundUp: true) == 1)
        #expect(IntOrPercent.percent(25).resolve(1, roundUp: false) == 0)
        #expect(IntOrPercent.percent(25).resolve(10, roundUp: true) == 3)
        #expect(IntOrPercent.percent(25).resolve(10, roundUp: false) == 2)
        #expect(IntOrPercent.count(2).resolve(10, roundUp: false) == 2)
    }

    @Test func badManifestsAreRefusedNamingTheField() {
        #expect(throws: ManifestError.self) {
            try ClusterManifest(yaml: "kind: Service\nmetadata: {name: x}\nspec: {ports: [{name: a}]}\n")
        }
        #expect(throws: ManifestError.self) { try ClusterManifest(yaml: "kind: Deployment\nspec: {}\n") }
    }
}
