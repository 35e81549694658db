import Foundation
import ProcessSupervision

/// The kubelet's part: pulling a pod's image, starting its container, its output, its signals,
/// and what happens when it ends.
extension Cluster {
    /// Starts (or restarts) the pod's container; with images, pulls the image first. A failed pull
    /// leaves the pod waiting (ErrImagePull, then ImagePullBackOff) and is tried again.
    func startContainer(_ name: String) async {
        guard var pod = pods[name], let container = pod.container, !stopped else { return }
        pod.generation += 1
        let generation = pod.generation
        pods[name] = pod
        if options.runtime == .images {
            do {
                try await ImageRuntime.pull(container.image, policy: container.imagePullPolicy)
            } catch {
                return await pullFailed(name, generation, error)
            }
            // The pod may have been deleted (or the cluster stopped) while the image came.
            guard let current = pods[name], current.generation == generation, !current.terminating, !stopped else { return }
        }
        do {
            pods[name]?.process = try run(pod, container, generation: generation)
        } catch {
            say("\(name): \(error)")
            Task { await containerExited(name, generation: generation, .exited(127)) }
            return
        }
        pods[name]?.phase = .running
        pods[name]?.waiting = nil
        pods[name]?.pulledImage = options.runtime == .images ? container.image : nil
        pods[name]?.probes = Task { await self.runProbes(name, generation: generation) }
    }

    private func run(_ pod: Pod, _ container: Container, generation: Int) throws -> SupervisedChild {
        let name = pod.name
        let mounts = container.mounts.compactMap { mount in volumeFolders[name]?[mount.volume].map { (path: mount.path, folder: $0) } }
        // The Service variables first, then the manifest's own: the container's env wins.
        var environment = pod.serviceEnvironment
        environment["HOSTNAME"] = name
        for variable in try configuration.environment(of: container) { environment[variable.name] = variable.value }
        // Secret and ConfigMap volumes are read-only in the container, as the kubelet mounts them.
        let filesVolumes = Set(pod.workload.template.volumes.filter { if case .files = $0.source { true } else { false } }.map(\.name))
        let readOnly = container.readOnlyPaths.union(container.mounts.filter { filesVolumes.contains($0.volume) }.map(\.path))
        let write = logWriter(name)
        let onExit: @Sendable (ExitStatus) -> Void = { status in Task { await self.containerExited(name, generation: generation, status) } }
        guard case .buildFolder(let folder) = options.runtime else {
            let launch = ImageRuntime.Launch(
                owner: plan.prefix, pod: name, address: pod.address, namespace: pod.namespace,
                environmentFile: try writeEnvironmentFile(name, environment),
                mounts: mounts, security: container.security.overriding(pod.workload.template.security), container: container,
                readOnlyPaths: readOnly
            )
            // SIGTERM when the rehearsal dies: podman passes it on and removes the container.
            let arguments = ParentDeathSignal.wrap([try Command.path("podman")] + launch.arguments.dropFirst(), signal: SIGTERM)
            do {
                return try SupervisedChild.start(
                    arguments, environment: Command.baseEnvironment, workingDirectory: "/", name: name, output: .lines(write: write),
                    onExit: onExit
                )
            } catch {
                throw RehearsalError("\(name): \(error)")
            }
        }
        let command = try ContainerCommand(binDirectory: folder, mounts: mounts).command(for: container)
        return try ContainerProcess.start(
            namespace: pod.namespace, command: command, environment: Command.baseEnvironment.merging(environment) { $1 },
            workingDirectory: mounts.first?.folder ?? "/", user: Self.user(pod.workload.template, command: command), name: name,
            write: write, onExit: onExit
        )
    }

    /// The podman container of a pod (one container per pod).
    func containerName(_ pod: String) -> String { plan.prefix + pod }

    /// The container's environment as a file podman reads (`--env-file`), readable by root only:
    /// values, Secrets' among them, stay off every command line.
    private func writeEnvironmentFile(_ pod: String, _ environment: [String: String]) throws -> String {
        if let bad = environment.first(where: { $0.key.contains("=") || $0.value.contains("\n") }) {
            throw RehearsalError("CreateContainerConfigError: the variable \(bad.key) cannot be passed on (a newline or =)")
        }
        let path = options.stateDirectory + "/pods/\(pod)/container.env"
        let text = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)\n" }.joined()
        guard FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw RehearsalError("cannot write \(path)")
        }
        return path
    }

    /// The kubelet's image back-off, shortened like the restart back-off (1 s doubling to 10 s
    /// instead of 10 s to 5 min): ErrImagePull for a second, then ImagePullBackOff until the next try.
    private func pullFailed(_ name: String, _ generation: Int, _ failure: ImageRuntime.PullFailure) async {
        guard var pod = pods[name], pod.generation == generation else { return }
        pod.waiting = PodWaiting(reason: failure.reason, message: failure.message)
        pod.pullFailures += 1
        pods[name] = pod
        say("\(name): \(failure.reason): \(failure.message)")
        let delay = Duration.seconds(min(10, 1 << min(pod.pullFailures - 1, 4)))
        try? await Task.sleep(for: .seconds(1))
        guard pods[name]?.generation == generation, pods[name]?.terminating == false else { return }
        pods[name]?.waiting?.reason = "ImagePullBackOff"
        try? await Task.sleep(for: delay)
        guard let current = pods[name], current.generation == generation, !current.terminating, current.process == nil else { return }
        await startContainer(name)
    }

    /// A signal to the pod's container. podman's signal proxy passes SIGTERM on; SIGKILL cannot be
    /// caught, so it goes to the container through podman (and to podman itself if that fails).
    func signal(_ pod: Pod, _ number: Int32) async {
        guard let process = pod.process else { return }
        if number == SIGKILL, options.runtime == .images, await ImageRuntime.kill(containerName(pod.name)) { return }
        process.signal(number)
    }

    /// The build-folder mode's user: the pod's runAsUser/runAsGroup through setpriv. Not for
    /// nx-27017: it is a Python script whose interpreter lives under /root (mode 0700) on these
    /// machines, which another user cannot run; its image runs as the manifest says.
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
        if delay > .zero { pod.waiting = PodWaiting(reason: "CrashLoopBackOff", message: "last exit: \(pod.lastExit ?? "")") }
        pods[name] = pod
        if delay > .zero { try? await Task.sleep(for: delay) }
        guard let current = pods[name], !current.terminating, current.process == nil else { return }
        await startContainer(name)
    }
}
