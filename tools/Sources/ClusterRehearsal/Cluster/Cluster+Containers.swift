import Foundation
import ProcessSupervision

/// The kubelet's part: starting a pod's container, its output, and what happens when it ends.
extension Cluster {
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
}
