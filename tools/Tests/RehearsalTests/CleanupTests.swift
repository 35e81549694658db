import Foundation
import TestSupport
import Testing

@testable import ClusterRehearsal

/// Nothing a rehearsal makes outlives it: not after a normal stop, not after a failed start.
/// Nested in `ScenarioTests` so it never runs beside another rehearsal (same names, addresses).
extension ScenarioTests {
    @Suite(.serialized) struct CleanupTests {
        /// Containers, namespaces, interfaces, nft tables and /etc/netns folders with the plan's prefix.
        static func leftovers(_ prefix: String) async throws -> [String] {
            var found: [String] = []
            found += try await Command.check(["ip", "netns", "list"]).split(separator: "\n")
                .compactMap { $0.split(separator: " ").first.map(String.init) }.filter { $0.hasPrefix(prefix) }
            found += try await Command.check(["ip", "-o", "link", "show"]).split(separator: "\n")
                .compactMap { $0.split(separator: " ").dropFirst().first.map(String.init) }.filter { $0.hasPrefix(prefix) }
            found += try await Command.check(["nft", "list", "tables"]).split(separator: "\n").filter { $0.contains(" \(prefix)") }.map(
                String.init)
            found += ((try? FileManager.default.contentsOfDirectory(atPath: "/etc/netns")) ?? []).filter { $0.hasPrefix(prefix) }
            found += try await Command.check([
                "podman", "ps", "--all", "--filter", "label=\(ImageRuntime.ownerLabel)=\(prefix)", "--format", "{{.Names}}",
            ])
            .split(separator: "\n").map { "container \($0)" }
            return found
        }

        @Test func aStoppedClusterLeavesNothing() async throws {
            var during: [String] = []
            try await RehearsedCluster.run { rehearsal in
                during = try await Self.leftovers("mr-")
                #expect(await rehearsal.cluster.podList().count == 6)
            }
            #expect(during.contains("mr-dns") && during.contains { $0.hasPrefix("mr-br0") }, "\(during)")
            #expect(try await Self.leftovers("mr-").isEmpty)
        }

        @Test func aFailedStartRemovesWhatItMade() async throws {
            let manifest = try await ManifestTests.local()
            // An address the kernel refuses: the start fails after the bridge exists.
            let plan = NetworkPlan(prefix: "mrx-", podNetwork: "10.213.0", serviceNetwork: "10.300.0")
            let state = TestPaths.temporaryDirectory(prefix: "rehearsal-fail")
            defer { try? FileManager.default.removeItem(atPath: state) }
            await #expect(throws: RehearsalError.self) {
                _ = try await Cluster.start(
                    ClusterOptions(
                        manifest: manifest, runtime: .buildFolder("/nonexistent"), stateDirectory: state, plan: plan, echoLogs: false))
            }
            #expect(try await Self.leftovers("mrx-").isEmpty)
        }
    }
}
