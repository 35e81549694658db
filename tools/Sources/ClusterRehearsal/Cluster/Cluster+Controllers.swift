import Foundation

extension Cluster {
    /// The Deployment and StatefulSet controllers: make the live pods match the replica count.
    /// A Deployment being rolled out is left to its rollout.
    func reconcile(_ name: String) {
        guard !stopped, let workload = workloads[name] else { return }
        switch workload.kind {
        case .deployment where rollouts[name] == nil: reconcileDeployment(workload)
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

    /// `kubectl rollout restart`: the template gets a new restartedAt annotation, so its pods are
    /// replaced as for any change (in the build-folder mode: by the binaries the folder now holds).
    public func restart(_ name: String, timeout: Duration = .seconds(300)) async throws {
        guard var workload = workloads[name], workload.kind != .job else { throw RehearsalError("no deployment or statefulset \(name)") }
        workload.template.restartedAt = "\(Date().timeIntervalSince1970)"
        workloads[name] = workload
        startRollout(name)
        try await waitForRollouts([name], timeout: timeout)
    }

    /// Starts updating the workload's pods to its current template, in the background as the
    /// controllers do, replacing an update in progress.
    func startRollout(_ name: String) {
        rollouts[name]?.task.cancel()
        rolloutsStarted += 1
        let number = rolloutsStarted
        let task = Task {
            await self.rollOut(name)
            self.rolloutEnded(name, number)
        }
        rollouts[name] = (number, task)
    }

    private func rolloutEnded(_ name: String, _ number: Int) {
        guard rollouts[name]?.number == number else { return }
        rollouts[name] = nil
        reconcile(name)
    }

    private func rollOut(_ name: String) async {
        guard let workload = workloads[name] else { return }
        switch (workload.kind, workload.strategy) {
        case (.statefulSet, _): await rollOutStatefulSet(name)
        case (.deployment, .recreate): await recreate(name)
        case (.deployment, .rollingUpdate): await rollingUpdate(name)
        case (.job, _): return
        }
    }

    /// New pods (up to maxSurge above the replica count) are created, and old pods are deleted
    /// only while at least replicas − maxUnavailable pods are ready. Ends when only new, ready
    /// pods are left (or when a newer rollout replaces it).
    private func rollingUpdate(_ name: String) async {
        while !Task.isCancelled, !stopped, let workload = workloads[name],
            case .rollingUpdate(let surge, let unavailable) = workload.strategy
        {
            let hash = templateHash(name)
            let replicas = workload.replicas
            let maxSurge = surge.resolve(replicas, roundUp: true)
            let minReady = replicas - unavailable.resolve(replicas, roundUp: false)
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
                try? await deletePod(pod.name)
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// Recreate: every old pod goes first (a ReadWriteOnce claim has one user at a time); the
    /// controller creates the new ones when the rollout ends.
    private func recreate(_ name: String) async {
        let hash = templateHash(name)
        for pod in pods.values where pod.workload.name == name && pod.templateHash != hash {
            try? await deletePod(pod.name)
        }
        while !Task.isCancelled, pods.values.contains(where: { $0.workload.name == name && $0.templateHash != hash }) {
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// A StatefulSet's RollingUpdate: from the highest ordinal down, one pod at a time is deleted,
    /// recreated under its name from the new template (the controller does that once it is gone),
    /// and waited for until ready.
    private func rollOutStatefulSet(_ name: String) async {
        guard let workload = workloads[name] else { return }
        for ordinal in (0..<workload.replicas).reversed() {
            let pod = "\(name)-\(ordinal)"
            guard let current = pods[pod], current.templateHash != templateHash(name) else { continue }
            try? await deletePod(pod)
            await waitUntilGone(pod)
            while !Task.isCancelled, !stopped, pods[pod]?.ready != true {
                try? await Task.sleep(for: .milliseconds(100))
            }
            if Task.isCancelled || stopped { return }
        }
    }

    /// `kubectl rollout status` for several workloads: waits until each has its replica count of
    /// ready pods of its current template and no others; fails at once, naming the pod, when a
    /// new pod cannot pull its image or keeps crashing, instead of waiting for the deadline.
    public func waitForRollouts(_ names: [String], timeout: Duration = .seconds(300)) async throws {
        let deadline = ContinuousClock.now + timeout
        while true {
            var pending: [String] = []
            for name in names {
                guard let workload = workloads[name] else { throw RehearsalError("no workload \(name)") }
                let hash = templateHash(name)
                let live = pods.values.filter { $0.workload.name == name && !$0.terminating }
                let new = live.filter { $0.templateHash == hash }
                if let stuck = new.first(where: Self.isStuck), let waiting = stuck.waiting {
                    throw RehearsalError(
                        "\(workload.kind.rawValue.lowercased())/\(name): pod \(stuck.name): \(waiting.reason): \(waiting.message)")
                }
                if !(rollouts[name] == nil && live.count == workload.replicas && new.count == live.count && new.allSatisfy(\.ready)) {
                    pending.append(name)
                }
            }
            if pending.isEmpty { return }
            guard ContinuousClock.now < deadline else {
                throw RehearsalError("rollout of \(pending.joined(separator: ", ")) did not finish within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// A pod that waiting will not make ready: its image cannot be pulled, or its container ended
    /// three times in a row without becoming ready.
    static func isStuck(_ pod: Pod) -> Bool {
        guard pod.process == nil, let reason = pod.waiting?.reason else { return false }
        return ["ErrImagePull", "ImagePullBackOff", "ErrImageNeverPull"].contains(reason)
            || (reason == "CrashLoopBackOff" && pod.crashLoops >= 3)
    }
}
