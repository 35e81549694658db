import Foundation
import TestSupport
import Testing

@testable import ClusterRehearsal

/// What the rehearsal's kubelet takes from Secrets: `secretKeyRef` variables and `secret` volumes,
/// from the real rendered local overlay (its Secrets generated from deployment/credentials.sh's
/// files). Unit level: no cluster is started.
@Suite struct SecretsTests {
    static let credentials = TestPaths.packageRoot + "/deployment/components/credentials/secrets"

    static func local() async throws -> ClusterManifest {
        let made = try await CommandResult.execute("/bin/bash", [TestPaths.packageRoot + "/deployment/credentials.sh"])
        try #require(made.status == 0, "\(made.standardError)")
        return try await ClusterManifest.load(overlay: TestPaths.packageRoot + "/deployment/overlays/local")
    }

    static func file(_ name: String) throws -> String { try String(contentsOfFile: credentials + "/" + name, encoding: .utf8) }

    @Test func eachClientGetsItsOwnRedisPasswordFromTheSecret() async throws {
        let manifest = try await Self.local()
        let sources = ConfigurationSources(secrets: manifest.secrets, configMaps: manifest.configMaps)
        for (workload, user) in [("webapp", "webapp"), ("eventservice", "eventservice"), ("report", "report")] {
            let container = try #require(manifest.workload(workload)?.template.containers.first)
            let reference = container.environment.first { $0.name == "REDIS_PASSWORD" }?.value
            guard case .secretKey(let secret, let key, false)? = reference else {
                Issue.record("\(workload): \(String(describing: reference))"); continue
            }
            #expect(secret.hasPrefix("redis-users-") && key == user, "\(workload): the hash-suffixed Secret, its own key")
            let environment = Dictionary(try sources.environment(of: container).map { ($0.name, $0.value) }) { $1 }
            #expect(environment["REDIS_PASSWORD"] == (try Self.file("redis-\(user)")), "\(workload)")
            #expect(environment["REDIS_USERNAME"] == user)
        }
        #expect(!manifest.ignored.contains { $0.hasPrefix("Secret/") }, "\(manifest.ignored)")
    }

    @Test func redisGetsOnlyTheACLFileReadOnly() async throws {
        let manifest = try await Self.local()
        let sources = ConfigurationSources(secrets: manifest.secrets, configMaps: manifest.configMaps)
        let redis = try #require(manifest.workload("redis")?.template)
        let volume = try #require(redis.volumes.first { $0.name == "users" })
        guard case .files(let files) = volume.source else { Issue.record("\(volume)"); return }
        #expect(files.kind == .secret && files.items == ["users.acl": "users.acl"] && files.defaultMode == 0o444)
        #expect(try sources.files(files) == ["users.acl": try Self.file("users.acl")], "the ACL file, and no password")
        let container = try #require(redis.containers.first)
        #expect(container.args.suffix(2) == ["--aclfile", "/etc/redis/users.acl"])

        let folder = TestPaths.temporaryDirectory(prefix: "secret-volume")
        try sources.write(files, into: folder, fsGroup: 999)
        let attributes = try FileManager.default.attributesOfItem(atPath: folder + "/users.acl")
        #expect((attributes[.posixPermissions] as? Int) == 0o444)
        #expect((attributes[.groupOwnerAccountID] as? Int) == 999)
        #expect(try String(contentsOfFile: folder + "/users.acl", encoding: .utf8) == (try Self.file("users.acl")))

        let launch = ImageRuntime.Launch(
            owner: "mr-", pod: "redis-x", address: "10.213.0.11", namespace: "mr-redis-x", environmentFile: "/e",
            mounts: [("/etc/redis", "/state/users"), ("/data", "/state/data")],
            security: container.security.overriding(redis.security), container: container, readOnlyPaths: ["/etc/redis"]
        )
        let arguments = launch.arguments.joined(separator: " ")
        #expect(arguments.contains("--volume /state/users:/etc/redis:ro"))
        #expect(arguments.contains("--volume /state/data:/data ") || arguments.hasSuffix("--volume /state/data:/data"))
    }

    @Test func aMissingSecretOrKeyStopsTheContainerNamingIt() throws {
        let yaml = """
            apiVersion: v1
            kind: Secret
            metadata: {name: s}
            data: {present: \(Data("value".utf8).base64EncodedString())}
            stringData: {plain: text}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: d}
            spec:
              template:
                metadata: {labels: {app: d}}
                spec:
                  containers:
                    - name: c
                      image: webapp
                      env:
                        - {name: A, value: literal}
                        - {name: B, valueFrom: {secretKeyRef: {name: s, key: present}}}
                        - {name: C, valueFrom: {secretKeyRef: {name: s, key: plain}}}
                        - {name: D, valueFrom: {secretKeyRef: {name: s, key: absent, optional: true}}}
            """
        let manifest = try ClusterManifest(yaml: yaml)
        #expect(manifest.secrets == ["s": ["present": "value", "plain": "text"]])
        let container = try #require(manifest.workload("d")?.template.containers.first)
        let sources = ConfigurationSources(secrets: manifest.secrets)
        #expect(try sources.environment(of: container).map { "\($0.name)=\($0.value)" } == ["A=literal", "B=value", "C=text"])

        var missingKey = container
        missingKey.environment.append(("E", .secretKey(secret: "s", key: "absent", optional: false)))
        #expect(throws: RehearsalError.self) { try sources.environment(of: missingKey) }
        do {
            _ = try ConfigurationSources().environment(of: container)
            Issue.record("a missing Secret was passed over")
        } catch {
            #expect(error.description.contains("CreateContainerConfigError") && error.description.contains("\"s\""), "\(error)")
        }
        #expect(throws: RehearsalError.self) { try sources.files(VolumeFiles(kind: .secret, name: "t")) }
        #expect(try sources.files(VolumeFiles(kind: .secret, name: "t", optional: true)) == [:])
        #expect(throws: RehearsalError.self) { try sources.files(VolumeFiles(kind: .secret, name: "s", items: ["present": "../escape"])) }
    }

    @Test func aVariableFromAnotherSourceIsRefusedNotLeftEmpty() {
        let yaml = """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: d}
            spec:
              template:
                spec:
                  containers:
                    - name: c
                      image: webapp
                      env:
                        - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
            """
        #expect(throws: ManifestError.self) { try ClusterManifest(yaml: yaml) }
    }
}
