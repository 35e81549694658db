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
            name: name, workload: workload, templateHash: hash, binDirectory: binDirectory(workload.name), host: host,
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

    func binDirectory(_ workload: String) -> String { binDirectories[workload] ?? options.binDirectory }

    /// The pod-template-hash: changes when the template or the binaries it runs change.
    func templateHash(_ workload: String) -> String {
        guard let template = workloads[workload]?.template else { return PodNames.templateHash(workload) }
        return PodNames.templateHash("\(workload)|\(binDirectory(workload))|\(template)")
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
        startContainer(name)
    }

    /// emptyDir: a folder of the pod's; a claim (or a StatefulSet's claim template): a folder that
    /// outlives the pod. All belong to the pod's user, as fsGroup makes them in a cluster.
    private func prepareVolumes(_ name: String) throws {
        guard let pod = pods[name] else { return }
        var folders: [String: String] = [:]
        var scratch: [String] = []
        for volume in pod.workload.template.volumes {
            switch volume.source {
            case .emptyDir:
                folders[volume.name] = options.stateDirectory + "/pods/\(name)/\(volume.name)"
                scratch.append(options.stateDirectory + "/pods/\(name)")
            case .claim(let claim): folders[volume.name] = options.stateDirectory + "/volumes/\(claim)"
            }
        }
        for claim in pod.workload.claimTemplates { folders[claim] = options.stateDirectory + "/volumes/\(claim)-\(name)" }
        for folder in folders.values {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            if let uid = pod.workload.template.runAsUser { chown(folder, uid_t(uid), gid_t(pod.workload.template.runAsGroup ?? uid)) }
        }
        volumeFolders[name] = folders
        pods[name]?.volumesToRemove = Array(Set(scratch))
    }

    func startContainer(_ name: String) {
        guard var pod = pods[name], let container = pod.container, !stopped else { return }
        let mounts = container.mounts.compactMap { mount in volumeFolders[name]?[mount.volume].map { (mount.path, $0) } }
        let builder = ContainerCommand(binDirectory: pod.binDirectory, mounts: mounts)
        pod.generation += 1
        let generation = pod.generation
        do {
            let command = try builder.command(for: container)
            var environment = Command.baseEnvironment.merging(pod.serviceEnvironment) { $1 }
            environment["HOSTNAME"] = name
            for variable in container.environment { environment[variable.name] = variable.value }
            pod.process = try ContainerProcess.start(
                namespace: pod.namespace, command: command, environment: environment,
                workingDirectory: mounts.first?.1 ?? "/", user: Self.user(pod.workload.template, command: command), name: name,
                write: logWriter(name), onExit: { status in Task { await self.containerExited(name, generation: generation, status) } }
            )
        } catch {
            say("\(name): \(error)")
            pods[name] = pod
            Task { await containerExited(name, generation: generation, .exited(127)) }
            return
        }
        pod.phase = .running
        pod.probes = Task { await self.runProbes(name, generation: generation) }
        pods[name] = pod
    }

    /// The pod's runAsUser/runAsGroup through setpriv. Not for nx-27017: it is a Python script
    /// whose interpreter lives under /root (mode 0700) on these machines, which another user
    /// cannot run; mongod or the real image would run as the manifest says.
    static func user(_ template: PodTemplate, command: [String]) -> (uid: Int, gid: Int)? {
        guard let uid = template.runAsUser, !(command.first ?? "").hasSuffix("/nx-27017") else { return nil }
        return (uid, template.runAsGroup ?? uid)
    }

    /// Every line to the pod's log file, and (for `up`) to standard output with the pod's name.
    private func logWriter(_ name: String) -> @Sendable (String) -> Void {
        let handle = FileHandle(forWritingAtPath: logPath(name))
        _ = try? handle?.seekToEnd()
        let echo = options.echoLogs
        let sink = self.sink
        let lock = Locked(handle)
        return { text in
            lock.withLock { try? $0?.write(contentsOf: Data((text + "\n").utf8)) }
            if echo { sink.write(name, text) }
        }
    }

    func containerExited(_ name: String, generation: Int, _ status: ExitStatus) async {
        guard var pod = pods[name], pod.generation == generation else { return }
        let wasReady = pod.ready
        pod.probes?.cancel()
        pod.process = nil
        pod.ready = false
        pod.lastExit = status.description
        pods[name] = pod
        if wasReady { await syncNetwork() }
        if pod.terminating || stopped { return await finishTermination(name) }
        let failed = status != .exited(0)
        switch pod.workload.template.restartPolicy {
        case .never:
            pods[name]?.phase = failed ? .failed : .succeeded
            await cleanUpFinished(name)
        case .onFailure where !failed:
            pods[name]?.phase = .succeeded
            await cleanUpFinished(name)
        default:
            say("\(name): container ended (\(status)), restarting")
            await restart(name, wasReady: wasReady)
        }
    }

    /// Restart in place (same pod, name and address), with the kubelet's back-off, shortened
    /// (1 s doubling to 10 s instead of 10 s to 5 min) so a crash-looping pod shows quickly;
    /// the first restart after a ready run is immediate.
    private func restart(_ name: String, wasReady: Bool) async {
        guard var pod = pods[name] else { return }
        pod.crashLoops = wasReady ? 0 : pod.crashLoops + 1
        let delay: Duration = pod.crashLoops == 0 ? .zero : .seconds(min(10, 1 << min(pod.crashLoops - 1, 4)))
        pod.restarts += 1
        pods[name] = pod
        if delay > .zero { try? await Task.sleep(for: delay) }
        guard let current = pods[name], !current.terminating, current.process == nil else { return }
        startContainer(name)
    }

    /// A finished Job pod keeps its record (status, log) but gives back its network.
    private func cleanUpFinished(_ name: String) async {
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
