import Foundation
import ProcessSupervision

#if canImport(Glibc)
import Glibc
#endif

/// Starts every component, watches them, restarts crashed ones, replaces rebuilt ones, answers
/// `localenv ps|start|stop|restart`, and stops them all on a signal.
///
/// Everything happens on the main actor, driven by one stream of events (and the control
/// socket's requests), so the state below has one writer.
@MainActor
final class Supervisor {
    enum Event: Sendable {
        case exited(String, generation: Int, ExitStatus)
        case ready(String, generation: Int)
        case restart(String)
        case stop(Int32)
        case readyTimeout
    }

    let plan: LaunchPlan
    let options: LaunchOptions
    let sink: OutputSink
    /// Each component's log file (and console filter), by name.
    let logs: [String: ComponentLog]
    let startedAt: ContinuousClock.Instant
    let events: AsyncStream<Event>
    nonisolated let continuation: AsyncStream<Event>.Continuation
    /// Set by a second Ctrl-C: stop waiting for graceful exits.
    nonisolated let hurry = Locked(false)
    private(set) var components: [Supervised]
    var announced = false
    var stopping = false
    /// What the watch loop is doing, for `localenv ps`.
    var watchStatus: String?

    init(
        plan: LaunchPlan, options: LaunchOptions, sink: OutputSink, logs: [String: ComponentLog],
        startedAt: ContinuousClock.Instant
    ) {
        self.plan = plan
        self.options = options
        self.sink = sink
        self.logs = logs
        self.startedAt = startedAt
        (events, continuation) = AsyncStream.makeStream(of: Event.self)
        components = plan.components.map(Supervised.init)
    }

    /// In watch mode, takes every service's ports before anything starts (see `PortForwarder`).
    func holdServicePorts() async throws(LauncherError) {
        for component in components where component.spec.role == .service {
            for use in component.spec.ports {
                component.forwarders.append(try await PortForwarder.start(host: use.host, port: use.port))
            }
        }
    }

    /// Runs until a stop signal (exit status 0) or a component that will not start (1).
    /// Monitoring starts once the rest is ready (`startMonitoring`).
    func run() async -> Int32 {
        var status: Int32 = components.filter { $0.spec.role != .monitoring }.allSatisfy { start($0) } ? 0 : 1
        if status == 0 {
            scheduleReadyTimeout()
            loop: for await event in events {
                switch event {
                case .stop(let signal):
                    say("\(signalName(signal)) received: stopping everything")
                    break loop
                case .exited(let name, let generation, let exitStatus):
                    if !handleExit(name, generation: generation, exitStatus) { status = 1 }
                case .restart(let name):
                    if let component = component(name), component.current == nil, !component.held, !start(component) {
                        status = 1
                    }
                case .ready(let name, let generation):
                    handleReady(name, generation: generation)
                case .readyTimeout:
                    reportNotReady()
                }
                if status != 0 { break loop }
            }
        }
        await stopAll()
        continuation.finish()
        return status
    }

    func say(_ text: String) { sink.write("localenv", text) }

    /// Prometheus starts when the services are ready (or the ready timeout has passed): started
    /// beside them it took CPU from their start (0.1 s of the ready time on two cores, bench/localenv.sh)
    /// and saw each of them down until it was up.
    func startMonitoring() {
        for component in components where component.spec.role == .monitoring && component.generation == 0 && !component.held {
            start(component)
        }
    }

    func component(_ name: String) -> Supervised? { components.first { $0.spec.name == name } }

    var elapsed: Duration { ContinuousClock.now - startedAt }

    /// `path` relative to the current directory when it is below it.
    func display(_ path: String) -> String {
        let here = FileManager.default.currentDirectoryPath + "/"
        return path.hasPrefix(here) ? String(path.dropFirst(here.count)) : path
    }

    /// Spawns a process of the component and its readiness probe; false (after saying why) when
    /// it cannot be spawned. A `successor` starts beside the current process, on ports of its
    /// own, and takes over when it is ready (`handleReady`).
    @discardableResult
    func start(_ component: Supervised, successor: Bool = false) -> Bool {
        component.generation += 1
        let name = component.spec.name
        let generation = component.generation
        let continuation = continuation
        var spec = component.spec
        var ports = spec.ports.map(\.port)
        if !component.forwarders.isEmpty {
            guard let free = PortCheck.freePorts(spec.ports.count) else {
                say("\(name): no free ports for a new process")
                return false
            }
            ports = free
            spec = spec.listening(on: ports)
        }
        guard let log = logs[name] else { return false }
        let child: SupervisedChild
        do {
            child = try ChildProcess.start(spec, environment: options.environment, log: log) {
                continuation.yield(.exited(name, generation: generation, $0))
            }
        } catch {
            say("\(error)")
            return false
        }
        let instance = Instance(generation: generation, child: child, ports: ports)
        if successor {
            component.successor = instance
            say("starting a new \(name) (pid \(child.pid)) beside pid \(component.current?.child.pid ?? 0)")
            abandonIfNotReady(component, instance)
        } else {
            component.current = instance
            component.forward(to: instance)
            say(
                log.quiet
                    ? "started \(name) (pid \(child.pid)); its output: \(display(log.path)) (warnings and errors shown here)"
                    : "started \(name) (pid \(child.pid))")
        }
        if generation > 1 { component.restarts += 1 }
        instance.probe = Task { await self.probe(instance, spec: spec, name: name) }
        return true
    }

    /// A new version that is not ready within the ready timeout is stopped; the running one stays.
    private func abandonIfNotReady(_ component: Supervised, _ instance: Instance) {
        let timeout = options.readyTimeout
        Task {
            try? await Task.sleep(for: timeout)
            guard component.successor === instance else { return }
            say(
                "the new \(component.name) is not ready after \(Announcement.seconds(timeout)) (\(instance.lastProbe)): stopping it; pid \(component.current?.child.pid ?? 0) keeps serving"
            )
            instance.probe?.cancel()
            terminate(instance.child)
        }
    }

    /// Polls every 50 ms until ready (then one `.ready` event) or until the process is gone.
    private func probe(_ instance: Instance, spec: ComponentSpec, name: String) async {
        while !Task.isCancelled, instance.child.isRunning, !stopping {
            let result = await ReadinessProbe.check(spec.readiness)
            instance.lastProbe = result.detail
            instance.lastProbeAt = .now
            if result.ready {
                continuation.yield(.ready(name, generation: instance.generation))
                return
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    private func scheduleReadyTimeout() {
        let continuation = continuation
        let timeout = options.readyTimeout
        Task {
            try? await Task.sleep(for: timeout)
            continuation.yield(.readyTimeout)
        }
    }
}
