import Foundation

extension Cluster {
    /// The Deployment and StatefulSet controllers: make the live pods match the replica count.
    func reconcile(_ name: String) {
        guard !stopped, let workload = workloads[name] else { return }
        switch workload.kind {
        case .deployment where !rollingOut.contains(name): reconcileDeployment(workload)
        case .statefulSet: reconcileStatefulSet(workload)
        default: break
        }
    }

    private func reconcileDeployment(_ workload: Workload) {
        let live = pods.values.filter { $0.workload.name == workload.name && !$0.terminating }
        if live.count < workload.replicas {
            for _ in live.count..<workload.replicas { createPod(workload) }
        } else if live.count > workload.replicas {
            // Scale down: not-ready pods first, then the youngest, as the ReplicaSet controller does.
            let victims = live.sorted { ($0.ready ? 1 : 0, $1.createdAt) < ($1.ready ? 1 : 0, $0.createdAt) }
            for pod in victims.prefix(live.count - workload.replicas) { Task { try? await deletePod(pod.name) } }
        }
    }

    /// Ordered: pod N is created once pods 0…N-1 are ready, and a pod's name is reused only after
    /// the old pod of that name is completely gone.
    private func reconcileStatefulSet(_ workload: Workload) {
        for ordinal in 0..<workload.replicas {
            let name = "\(workload.name)-\(ordinal)"
            guard let pod = pods[name] else {
                createPod(workload, name: name)
                return
            }
            if !pod.ready { return }
        }
        for (name, pod) in pods where pod.workload.name == workload.name && !pod.terminating {
            if let ordinal = Int(name.dropFirst(workload.name.count + 1)), ordinal >= workload.replicas {
                Task { try? await deletePod(name) }
            }
        }
    }

    /// `kubectl scale deployment/NAME --replicas N` (StatefulSets too).
    public func scale(_ name: String, replicas: Int) throws {
        guard var workload = workloads[name], workload.kind != .job else { throw RehearsalError("no deployment or statefulset \(name)") }
        guard replicas >= 0 else { throw RehearsalError("replicas must be 0 or more") }
        workload.replicas = replicas
        workloads[name] = workload
        reconcile(name)
    }

    /// A rolling update to the binaries in `binDirectory`: new pods (up to maxSurge above the
    /// replica count) are created, and old pods are deleted only while at least replicas −
    /// maxUnavailable pods are ready. Returns when only new, ready pods are left.
    public func rollout(_ name: String, binDirectory: String, timeout: Duration = .seconds(300)) async throws {
        guard let workload = workloads[name], workload.kind == .deployment else { throw RehearsalError("no deployment \(name)") }
        binDirectories[name] = binDirectory
        let hash = templateHash(name)
        guard case .rollingUpdate(let surge, let unavailable) = workload.strategy else {
            for pod in pods.values where pod.workload.name == name { try await deletePod(pod.name) }
            return try await waitUntilSettled(timeout: timeout)
        }
        rollingOut.insert(name)
        defer {
            rollingOut.remove(name)
            reconcile(name)
        }
        let replicas = workload.replicas
        let maxSurge = surge.resolve(replicas, roundUp: true)
        let minReady = replicas - unavailable.resolve(replicas, roundUp: false)
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let live = pods.values.filter { $0.workload.name == name && !$0.terminating }
            let old = live.filter { $0.templateHash != hash }, new = live.filter { $0.templateHash == hash }
            if old.isEmpty && new.count == replicas && new.allSatisfy(\.ready) { return }
            if live.count < replicas + maxSurge && new.count < replicas {
                for _ in 0..<min(replicas + maxSurge - live.count, replicas - new.count) { createPod(workload) }
            }
            // Deleting a not-ready old pod costs no availability; a ready one only above minReady.
            var ready = live.filter(\.ready).count
            for pod in old.sorted(by: { !$0.ready && $1.ready }) where !pod.ready || ready > minReady {
                if pod.ready { ready -= 1 }
                try await deletePod(pod.name)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw RehearsalError("rollout of \(name) did not finish within \(timeout)")
    }
}
