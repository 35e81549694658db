import Foundation
import ProcessSupervision

extension Cluster {
    /// Creates a pod of `workload` (the name given for StatefulSet pods) and starts it in the background.
    @discardableResult
    func createPod(_ workload: Workload, name given: String? = nil) -> String? {
        guard let host = allocateHost() else {
            say("no free pod address for \(workload.name)")
            return nil
        }
        let hash = templateHash(workload.name)
        let name: String
        switch workload.kind {
        case .deployment: name = given ?? "\(workload.name)-\(hash)-\(PodNames.suffix())"
        case .statefulSet: name = given ?? "\(workload.name)-0"
        case .job: name = given ?? "\(workload.name)-\(PodNames.suffix())"
        }
        nextInterface += 1
        pods[name] = Pod(
            name: name, workload: workload, templateHash: hash, host: host,
            address: plan.podAddress(host), namespace: plan.namespace(forPod: name), interface: "\(plan.prefix)v\(nextInterface)",
            serviceEnvironment: ServiceEnvironment.variables(services), createdAt: .now
        )
        try? Data().write(to: URL(fileURLWithPath: logPath(name)))
        Task { await launch(name) }
        return name
    }

    /// The next free address after the last one given, as the host-local IPAM plugin does. Not
    /// the lowest free one: an address given again at once is still in the other pods' (and the
    /// node's) ARP caches with the old pod's MAC, and connections to the new pod time out until
    /// those entries expire — seen here as a rollout's new pod unreachable for seconds.
    private func allocateHost() -> Int? {
        let used = Set(pods.values.filter { !$0.isFinished }.map(\.host))
        let hosts = Array(plan.podHosts)
        let start = hosts.firstIndex(of: lastHost).map { $0 + 1 } ?? 0
        for offset in hosts.indices {
            let host = hosts[(start + offset) % hosts.count]
            if !used.contains(host) {
                lastHost = host
                return host
            }
        }
        return nil
    }

    /// The pod-template-hash: changes when the template changes (an image, a label, a restart).
    func templateHash(_ workload: String) -> String {
        guard let template = workloads[workload]?.template else { return PodNames.templateHash(workload) }
        return PodNames.templateHash("\(workload)|\(template.fingerprint)|\(template.restartedAt ?? "")")
    }

    private func launch(_ name: String) async {
        guard let pod = pods[name] else { return }
        do {
            try await PodNetwork.create(
                namespace: pod.namespace, hostInterface: pod.interface, address: pod.address, plan: plan, resolver: plan.dnsAddress
            )
            try prepareVolumes(name)
        } catch {
            say("\(name): cannot create the pod: \(error)")
            pods[name]?.phase = .failed
            await finishTermination(name)
            return
        }
        guard pods[name]?.terminating == false else { return await finishTermination(name) }
        await startContainer(name)
    }

    /// The pod's own folder (its emptyDirs, its Secrets' and ConfigMaps' files, the container's
    /// environment file); a claim (or a StatefulSet's claim template): a folder that outlives the
    /// pod. Writable ones belong to the pod's user, and to its fsGroup, as a cluster makes them.
    private func prepareVolumes(_ name: String) throws {
        guard let pod = pods[name] else { return }
        let own = options.stateDirectory + "/pods/\(name)"
        try FileManager.default.createDirectory(atPath: own, withIntermediateDirectories: true)
        pods[name]?.volumesToRemove = [own]
        var folders: [String: String] = [:]
        var files: [String: VolumeFiles] = [:]
        for volume in pod.workload.template.volumes {
            switch volume.source {
            case .emptyDir: folders[volume.name] = own + "/\(volume.name)"
            case .claim(let claim): folders[volume.name] = options.stateDirectory + "/volumes/\(claim)"
            case .files(let source): files[volume.name] = source
            }
        }
        for claim in pod.workload.claimTemplates { folders[claim] = options.stateDirectory + "/volumes/\(claim)-\(name)" }
        let security = pod.workload.template.security
        for folder in folders.values {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            if let uid = security.runAsUser { chown(folder, uid_t(uid), gid_t(security.fsGroup ?? security.runAsGroup ?? uid)) }
        }
        // A Secret's or ConfigMap's files: root's folder, written once for the pod's life.
        for (volume, source) in files {
            let folder = own + "/\(volume)"
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try configuration.write(source, into: folder, fsGroup: security.fsGroup)
            folders[volume] = folder
        }
        volumeFolders[name] = folders
    }

    /// A finished Job pod keeps its record (status, log) but gives back its network.
    func cleanUpFinished(_ name: String) async {
        guard let pod = pods[name] else { return }
        await PodNetwork.delete(namespace: pod.namespace)
    }

    /// The pod is gone: its network, scratch folders and record; then its controller acts
    /// (a StatefulSet creates the pod of the same name only now).
    func finishTermination(_ name: String) async {
        guard let pod = pods[name] else { return }
        pod.probes?.cancel()
        await PodNetwork.delete(namespace: pod.namespace)
        for folder in pod.volumesToRemove { try? FileManager.default.removeItem(atPath: folder) }
        pods[name] = nil
        volumeFolders[name] = nil
        terminationWaiters.removeValue(forKey: name)?.forEach { $0.resume() }
        if !stopped { reconcile(pod.workload.name) }
    }
}
