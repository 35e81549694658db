import Foundation
import ProcessSupervision

extension Cluster {
    /// Readiness and liveness of one container start, until it exits (the task is cancelled then).
    func runProbes(_ name: String, generation: Int) async {
        guard let pod = pods[name], let container = pod.container else { return }
        // An exec probe runs inside the container: podman exec, or in the pod's namespace.
        let exec = options.runtime == .images ? ImageRuntime.exec(containerName(name)) : ["ip", "netns", "exec", pod.namespace]
        await withTaskGroup(of: Void.self) { group in
            if let probe = container.readiness {
                group.addTask {
                    await self.probeLoop(name, generation, probe, container, pod, exec) { await self.setReady(name, generation, $0) }
                }
            } else {
                group.addTask { await self.setReady(name, generation, true) }
            }
            if let probe = container.liveness {
                group.addTask {
                    await self.probeLoop(name, generation, probe, container, pod, exec) { alive in
                        if !alive { await self.livenessFailed(name, generation) }
                    }
                }
            }
        }
    }

    /// Probes every period after the initial delay; reports `true` after successThreshold passes
    /// in a row and `false` after failureThreshold failures in a row.
    private nonisolated func probeLoop(
        _ name: String, _ generation: Int, _ probe: Probe, _ container: Container, _ pod: Pod, _ exec: [String],
        report: @Sendable (Bool) async -> Void
    ) async {
        try? await Task.sleep(for: .seconds(probe.initialDelaySeconds))
        var passes = 0, failures = 0
        while !Task.isCancelled {
            if await Prober.check(probe, container: container, address: pod.address, exec: exec) {
                passes += 1
                failures = 0
                if passes >= probe.successThreshold { await report(true) }
            } else {
                failures += 1
                passes = 0
                if failures >= probe.failureThreshold { await report(false) }
            }
            try? await Task.sleep(for: .seconds(max(1, probe.periodSeconds)))
        }
    }

    private func setReady(_ name: String, _ generation: Int, _ ready: Bool) async {
        guard var pod = pods[name], pod.generation == generation, pod.process != nil, pod.ready != ready else { return }
        pod.ready = ready
        if ready {
            pod.readyAt = .now
            pod.crashLoops = 0
        }
        pods[name] = pod
        if !pod.terminating { await syncNetwork() }
        // A StatefulSet creates its next pod once this one is ready.
        if ready && pod.workload.kind == .statefulSet { reconcile(pod.workload.name) }
    }

    /// The kubelet kills the container (grace period, then SIGKILL); the exit restarts it.
    private func livenessFailed(_ name: String, _ generation: Int) async {
        guard let pod = pods[name], pod.generation == generation, pod.process != nil, !pod.terminating else { return }
        say("\(name): liveness probe failed, restarting the container")
        await signal(pod, SIGTERM)
        try? await Task.sleep(for: .seconds(pod.workload.template.terminationGracePeriodSeconds))
        if let current = pods[name], current.generation == generation { await signal(current, SIGKILL) }
    }
}
