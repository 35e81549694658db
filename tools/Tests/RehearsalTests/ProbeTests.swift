import Foundation
import TestSupport
import Testing

@testable import ClusterRehearsal

extension ScenarioTests {
    /// Probes from the manifests: a pod that stops answering leaves the DNS records once its
    /// readiness probe fails, and its container is restarted once its liveness probe fails.
    @Suite(.serialized) struct ProbeTests {
        @Test func aHungPodLeavesTheRecordsAndIsRestartedByItsLivenessProbe() async throws {
            // Shorter liveness timing than the manifest's (30 s to notice) to keep the test short.
            let quick: (inout ClusterManifest) -> Void = { manifest in
                guard let index = manifest.workloads.firstIndex(where: { $0.name == "adderservice" }) else { return }
                manifest.workloads[index].template.containers[0].liveness?.initialDelaySeconds = 1
                manifest.workloads[index].template.containers[0].liveness?.periodSeconds = 1
                manifest.workloads[index].template.containers[0].liveness?.failureThreshold = 3
                manifest.workloads[index].template.terminationGracePeriodSeconds = 2
            }
            try await RehearsedCluster.run(change: quick) { rehearsal in
                let pod = try #require(await rehearsal.pods("adderservice").first)
                #expect(
                    try await rehearsal.srvTargets("adderservice") == [
                        "\(pod.address.replacingOccurrences(of: ".", with: "-")).adderservice.micro.svc.cluster.local."
                    ])
                let pids = try await Command.check(["ip", "netns", "pids", "mr-\(pod.name)"]).split(separator: "\n").compactMap {
                    Int32($0)
                }
                #expect(!pids.isEmpty)
                for pid in pids { kill(pid, SIGSTOP) }
                let start = ContinuousClock.now
                let leftRecords = try await rehearsal.eventually { try await rehearsal.srvTargets("adderservice").isEmpty }
                let notReady = (ContinuousClock.now - start).seconds
                #expect(leftRecords, "a hung pod stayed in the DNS records")
                let restarted = await rehearsal.eventually(.seconds(30)) {
                    await rehearsal.pods("adderservice").contains { $0.name == pod.name && $0.restarts == 1 && $0.ready }
                }
                let after = await rehearsal.pods("adderservice")
                #expect(restarted, "\(after)")
                let back = try await rehearsal.eventually { try await rehearsal.srvTargets("adderservice").count == 1 }
                #expect(back)
                print(
                    "rehearsal: (probes) hung adderservice out of DNS after \(String(format: "%.1f", notReady)) s, restarted and back after \(String(format: "%.1f", (ContinuousClock.now - start).seconds)) s"
                )
            }
        }
    }
}
