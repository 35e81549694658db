import Foundation

extension Cluster {
    /// `kubectl apply -f` followed by `kubectl rollout status` of what it created or changed:
    /// Services are created or updated (keeping their addresses), network policies too (enforced
    /// before anything starts); a new workload starts; one whose
    /// pod template changed rolls out as its strategy says; a Job is replaced (it runs with
    /// `runJob`). Nothing is pruned. Returns kubectl's lines, one per object; throws when a rollout
    /// fails (a pull error, a crash loop, the deadline), naming the pod.
    public func apply(_ manifest: ClusterManifest, timeout: Duration = .seconds(300)) async throws -> [String] {
        guard !stopped else { throw RehearsalError("the cluster is stopping") }
        var lines: [String] = []
        // Secrets and ConfigMaps first: the pods this apply starts read them.
        configuration.merge(manifest)
        lines += manifest.secrets.keys.sorted().map { "secret/\($0) configured" }
        lines += manifest.configMaps.keys.sorted().map { "configmap/\($0) configured" }
        let known = Set(services.map(\.service.name))
        services = Self.allocate(manifest.services, plan: plan, existing: services)
        for service in manifest.services {
            lines.append("service/\(service.name) \(known.contains(service.name) ? "configured" : "created")")
        }
        lines += applyPolicies(manifest)
        await syncNetwork()
        var waitFor: [String] = []
        for workload in manifest.workloads {
            let object = "\(workload.kind.rawValue.lowercased())/\(workload.name)"
            var updated = workload
            guard let old = workloads[workload.name] else {
                workloads[workload.name] = workload
                reconcile(workload.name)
                if workload.kind != .job { waitFor.append(workload.name) }
                lines.append("\(object) created")
                continue
            }
            // A restart's annotation is not in the applied file; apply keeps it on the live object.
            updated.template.restartedAt = old.template.restartedAt
            let oldHash = templateHash(workload.name)
            workloads[workload.name] = updated
            let changed = templateHash(workload.name) != oldHash
            if changed && workload.kind != .job { startRollout(workload.name) } else { reconcile(workload.name) }
            if workload.kind != .job { waitFor.append(workload.name) }
            lines.append("\(object) \(changed || old.replicas != workload.replicas ? "configured" : "unchanged")")
        }
        lines += manifest.ignored.map { "\($0) not rehearsed" }
        try await waitForRollouts(waitFor, timeout: timeout)
        lines.append("every deployment and statefulset rolled out")
        return lines
    }
}
