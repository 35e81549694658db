import Foundation
import TestSupport
import Testing

@testable import ClusterRehearsal

/// The manifest model read from the real rendered overlay (never a copy of the topology).
@Suite struct ManifestTests {
    static func local() async throws -> ClusterManifest {
        try await ClusterManifest.load(overlay: TestPaths.packageRoot + "/deployment/overlays/local")
    }

    @Test func theLocalOverlayHasEveryWorkloadAndService() async throws {
        let manifest = try await Self.local()
        #expect(
            Set(manifest.workloads.map(\.name)) == ["adderservice", "auditservice", "eventservice", "webapp", "mongo", "redis", "report"])
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
        // The webapp's Service has both ports; the NodePort, a Service of its own, only the page port.
        let webapp = try #require(manifest.service("webapp"))
        #expect(webapp.kind == .clusterIP)
        #expect(webapp.ports.map(\.name) == ["http", "metrics"])
        let external = try #require(manifest.service("webapp-external"))
        #expect(external.kind == .nodePort)
        #expect(external.ports == [ServicePort(name: "http", port: 3000, targetPort: .name("http"), nodePort: 30080)])
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
        #expect(path == "/readyz" && port == .name("metrics"))
        #expect(container.liveness?.initialDelaySeconds == 5)
        #expect(container.environment.first { $0.name == "DNS_HOST" } == nil)
        let redis = try #require(manifest.workload("redis")?.template)
        #expect(redis.volumes.contains(Volume(name: "data", source: .claim("redis-data"))))
        guard case .exec(let command) = redis.containers.first?.readiness?.action else { Issue.record("redis readiness"); return }
        #expect(command.first == "sh" && command.last?.contains("--user probe") == true, "\(command)")
    }

    @Test func containersCarryTheirSecurityContextMemoryLimitAndPullPolicy() async throws {
        let manifest = try await Self.local()
        let webapp = try #require(manifest.workload("webapp")?.template)
        let container = try #require(webapp.containers.first)
        let security = container.security.overriding(webapp.security)
        #expect(security.runAsUser == 10001 && security.runAsGroup == 10001)
        #expect(security.readOnlyRootFilesystem && !security.allowPrivilegeEscalation && security.capabilitiesDrop == ["ALL"])
        #expect(security.seccompProfile == "RuntimeDefault")
        #expect(container.memoryLimit == 256 << 20)
        // The overlay's own tag is `latest`: pulled on every start, as Kubernetes does.
        #expect(container.imagePullPolicy == .always)
        let mongo = try #require(manifest.workload("mongo")?.template)
        #expect(mongo.security.fsGroup == 999)
        #expect(mongo.containers.first?.memoryLimit == 1 << 30)
        #expect(mongo.containers.first?.imagePullPolicy == .ifNotPresent)
    }

    @Test func imageReferencesAndTheirDefaultPullPolicy() {
        let pinned = ImageReference("localhost:5000/webapp@sha256:0123")
        #expect(pinned.name == "webapp" && pinned.tag == nil && pinned.digest == "sha256:0123")
        #expect(pinned.defaultPullPolicy == .ifNotPresent)
        #expect(ImageReference("localhost:5000/webapp:abc123").tag == "abc123")
        #expect(ImageReference("localhost:5000/webapp:abc123").defaultPullPolicy == .ifNotPresent)
        #expect(ImageReference("redis").defaultPullPolicy == .always)
        #expect(ImageReference("redis:latest").defaultPullPolicy == .always)
        #expect(Quantity.bytes("256Mi") == 256 << 20 && Quantity.bytes("1G") == 1_000_000_000 && Quantity.bytes("512") == 512)
        #expect(Quantity.bytes("lots") == nil)
    }

    @Test func aTemplateIsChangedByItsImageNotByParsingItAgain() async throws {
        let first = try #require(try await Self.local().workload("webapp")?.template)
        let again = try #require(try await Self.local().workload("webapp")?.template)
        #expect(first.fingerprint == again.fingerprint)
        let yaml = try await Command.check(["kubectl", "kustomize", TestPaths.packageRoot + "/deployment/overlays/local"])
        let changed = try ClusterManifest(
            yaml: yaml.replacingOccurrences(of: "localhost:5000/webapp:latest", with: "localhost:5000/webapp:v2"))
        #expect(try #require(changed.workload("webapp")?.template).fingerprint != first.fingerprint)
        #expect(
            try #require(changed.workload("adderservice")?.template).fingerprint
                == (try await Self.local().workload("adderservice")?.template.fingerprint))
    }

    @Test func podmanRunsTheContainerAsItsPodSpecSays() async throws {
        let webapp = try #require(try await Self.local().workload("webapp")?.template)
        let container = try #require(webapp.containers.first)
        let launch = ImageRuntime.Launch(
            owner: "mr-", pod: "webapp-x", address: "10.213.0.10", namespace: "mr-webapp-x", environmentFile: "/state/container.env",
            mounts: [("/tmp", "/state/tmp")],
            security: container.security.overriding(webapp.security), container: container
        )
        let arguments = launch.arguments.joined(separator: " ")
        for expected in [
            "--network ns:/run/netns/mr-webapp-x", "--volume /etc/netns/mr-webapp-x/resolv.conf:/etc/resolv.conf:ro",
            "--user 10001:10001", "--read-only --read-only-tmpfs=false", "--cap-drop ALL", "--security-opt no-new-privileges",
            "--memory 268435456 --memory-swap 268435456", "--volume /state/tmp:/tmp", "--env-file /state/container.env",
            "--label io.micro.rehearsal=mr-", "--pull never",
        ] {
            #expect(arguments.contains(expected), "\(expected) in \(arguments)")
        }
        #expect(!arguments.contains("seccomp=unconfined"))
        #expect(launch.arguments.last == container.image)
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
