import Foundation
import ProcessSupervision

#if canImport(Glibc)
import Glibc
#endif

/// Starts every component, watches them, restarts crashed ones, and stops them all on a signal.
///
/// Everything happens on the main actor, driven by one stream of events, so the state below has
/// one writer; children are spawned from the main thread (see `ChildProcess` on why).
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
    let startedAt: ContinuousClock.Instant
    let events: AsyncStream<Event>
    nonisolated let continuation: AsyncStream<Event>.Continuation
    /// Set by a second Ctrl-C: stop waiting for graceful exits.
    nonisolated let hurry = Locked(false)
    private(set) var components: [Supervised]
    var announced = false
    var stopping = false

    init(plan: LaunchPlan, options: LaunchOptions, sink: OutputSink, startedAt: ContinuousClock.Instant) {
        self.plan = plan
        self.options = options
        self.sink = sink
        self.startedAt = startedAt
        (events, continuation) = AsyncStream.makeStream(of: Event.self)
        components = plan.components.map(Supervised.init)
    }

    /// Runs until a stop signal (exit status 0) or a component that will not start (1).
    func run() async -> Int32 {
        var status: Int32 = components.allSatisfy { start($0) } ? 0 : 1
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
                    if let component = component(name), !start(component) { status = 1 }
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

    func component(_ name: String) -> Supervised? { components.first { $0.spec.name == name } }

    var elapsed: Duration { ContinuousClock.now - startedAt }

    /// Spawns the component and its readiness probe; false (after saying why) when it cannot be spawned.
    private func start(_ component: Supervised) -> Bool {
        component.generation += 1
        component.ready = false
        component.startedAt = .now
        let name = component.spec.name
        let generation = component.generation
        let continuation = continuation
        do {
            component.child = try ChildProcess.start(component.spec, environment: options.environment, sink: sink) {
                continuation.yield(.exited(name, generation: generation, $0))
            }
        } catch {
            say("\(error)")
            return false
        }
        say("started \(name) (pid \(component.child?.pid ?? 0))")
        component.probe = Task { await self.probe(component, generation: generation) }
        return true
    }

    /// Polls every 50 ms until ready (then one `.ready` event) or until this generation is gone.
    private func probe(_ component: Supervised, generation: Int) async {
        while !Task.isCancelled, component.generation == generation, !stopping {
            let result = await ReadinessProbe.check(component.spec.readiness)
            guard component.generation == generation else { return }
            component.lastProbe = result.detail
            if result.ready {
                continuation.yield(.ready(component.spec.name, generation: generation))
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

/// A component's state across restarts.
@MainActor
final class Supervised {
    let spec: ComponentSpec
    var child: ChildProcess?
    /// Bumped on every start, so events of an earlier run of the process are recognised and dropped.
    var generation = 0
    var ready = false
    /// Exits in a row before becoming ready; at `maxStartFailures` the launcher gives up.
    var startFailures = 0
    /// Exits in a row each soon after its start; sets the restart delay.
    var quickExits = 0
    var startedAt = ContinuousClock.now
    var lastProbe = "not asked yet"
    var probe: Task<Void, Never>?

    init(spec: ComponentSpec) { self.spec = spec }
}
