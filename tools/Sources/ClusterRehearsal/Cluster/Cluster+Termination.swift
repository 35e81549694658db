import Foundation
import ProcessSupervision

extension Cluster {
    /// `kubectl delete pod`, in Kubernetes' order: the pod is marked terminating and leaves the
    /// DNS records and Service endpoints at once (before this returns), its controller creates a
    /// replacement at once (Deployment; a StatefulSet waits until the old pod is gone); then
    /// preStop runs, then SIGTERM, and SIGKILL when the grace period since deletion is over.
    public func deletePod(_ name: String) async throws {
        guard var pod = pods[name] else { throw RehearsalError("no pod \(name)") }
        guard !pod.terminating else { return }
        pod.deletedAt = .now
        pods[name] = pod
        await syncNetwork()
        reconcile(pod.workload.name)
        Task { await terminate(name) }
    }

    /// Waits until the pod is gone (its processes ended and its network removed).
    public func waitUntilGone(_ name: String) async {
        guard pods[name] != nil else { return }
        await withCheckedContinuation { terminationWaiters[name, default: []].append($0) }
    }

    /// SIGKILL to the container, as when the process crashes or the OOM killer strikes: the
    /// kubelet restarts it in the same pod.
    public func killPod(_ name: String) async throws {
        guard let pod = pods[name], pod.process != nil else { throw RehearsalError("no running pod \(name)") }
        await signal(pod, SIGKILL)
    }

    private func terminate(_ name: String) async {
        guard let pod = pods[name], let deletedAt = pod.deletedAt else { return }
        guard let process = pod.process else { return await finishTermination(name) }
        let grace = Duration.seconds(pod.workload.template.terminationGracePeriodSeconds)
        if let sleep = pod.container?.preStopSleepSeconds {
            try? await Task.sleep(for: .seconds(sleep))
        }
        await signal(pod, SIGTERM)
        while process.isRunning, ContinuousClock.now < deletedAt + grace {
            try? await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning {
            say("\(name): still running \(grace) after deletion, SIGKILL")
            await signal(pod, SIGKILL)
        }
    }

    /// Stops everything: every pod gets SIGTERM (no preStop: the whole cluster goes), SIGKILL
    /// after at most 10 s; then the DNS, every container, namespace, interface and nft table is removed.
    public func shutdown() async {
        guard !stopped else { return }
        stopped = true
        for rollout in rollouts.values { rollout.task.cancel() }
        let running = pods.values.filter { $0.process != nil }
        for pod in running { await signal(pod, SIGTERM) }
        let deadline = ContinuousClock.now + .seconds(10)
        while running.contains(where: { $0.process?.isRunning == true }), ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(50))
        }
        for pod in running where pod.process?.isRunning == true { await signal(pod, SIGKILL) }
        for pod in pods.values {
            await PodNetwork.delete(namespace: pod.namespace)
            for folder in pod.volumesToRemove { try? FileManager.default.removeItem(atPath: folder) }
        }
        pods.removeAll()
        await dns.stop()
        _ = await NodeNetwork.removeLeftovers(plan)
        for waiters in terminationWaiters.values { waiters.forEach { $0.resume() } }
        terminationWaiters.removeAll()
        say("stopped; every container, namespace, interface and nft table removed")
    }

    // MARK: DNS and Service endpoints

    /// Publishes the ready endpoints to the DNS and the proxy rules, and every pod's address to
    /// the network policies' rules. Calls are chained so they
    /// apply in order; each reads the state when its turn comes, so the last one applies the latest.
    func syncNetwork() async {
        guard !stopped else { return }
        let previous = lastNetworkSync
        let task = Task {
            await previous?.value
            await self.applyNetwork()
        }
        lastNetworkSync = task
        await task.value
    }

    private func applyNetwork() async {
        guard !stopped else { return }
        let endpoints = pods.values.compactMap(\.endpoint).sorted { $0.pod < $1.pod }
        let records = ClusterRecords.make(services: services, endpoints: endpoints, namespace: options.namespace)
        do {
            let rules =
                ServiceProxy.ruleset(services, endpoints: endpoints, plan: plan) + PolicyRuleset.ruleset(policyEnforcement(), plan: plan)
            try await ServiceProxy.apply(rules, stateDirectory: options.stateDirectory)
            try await dns.publish(records)
        } catch {
            say("cannot update the endpoints: \(error)")
        }
    }
}
