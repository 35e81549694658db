import ProcessSupervision

/// A component's state across restarts.
@MainActor
final class Supervised {
    let spec: ComponentSpec
    /// The process that serves (or is starting to).
    var current: Instance?
    /// A new version starting beside `current` during a rolling restart.
    var successor: Instance?
    /// Replaced versions that are still draining.
    var retiring: [Instance] = []
    /// In watch mode, a service's port is held by the launcher and forwarded to `current`.
    var forwarder: PortForwarder?
    /// Bumped on every start, so events of an earlier process are recognised.
    var generation = 0
    /// Exits in a row before becoming ready; at `maxStartFailures` the launcher gives up.
    var startFailures = 0
    /// Exits in a row each soon after its start; sets the restart delay.
    var quickExits = 0
    /// Processes started after the first one: crashes and restarts.
    var restarts = 0
    /// Stopped with `localenv stop`: not restarted until `localenv start`.
    var held = false
    /// `localenv restart` of a component that cannot roll: start again once the process has ended.
    var startWhenStopped = false

    init(spec: ComponentSpec) { self.spec = spec }

    var ready: Bool { current?.ready ?? false }

    var name: String { spec.name }

    /// The instance of `generation`, wherever it is.
    func instance(_ generation: Int) -> Instance? {
        ([current, successor].compactMap { $0 } + retiring).first { $0.generation == generation }
    }

    /// Every process of this component that may still run.
    var processes: [SupervisedChild] { ([current, successor].compactMap { $0 } + retiring).map(\.child) }
}

/// One process of a component.
@MainActor
final class Instance {
    let generation: Int
    let child: SupervisedChild
    /// Where it listens: the service's port, or in watch mode a free one the forwarder sends to.
    let port: Int
    let startedAt = ContinuousClock.now
    var ready = false
    var lastProbe = "not asked yet"
    var lastProbeAt: ContinuousClock.Instant?
    var probe: Task<Void, Never>?

    init(generation: Int, child: SupervisedChild, port: Int) {
        self.generation = generation
        self.child = child
        self.port = port
    }
}

extension ComponentSpec {
    /// The first port, the one DNS names and readiness asks.
    var mainPort: Int { ports.first?.port ?? 0 }

    /// The same service listening on `port` instead (a rolling restart's new process).
    func listening(on port: Int) -> ComponentSpec {
        var spec = self
        spec.environment[name.uppercased() + "_SERVICE_PORT"] = "\(port)"
        if case .http(_, let path) = readiness { spec.readiness = .http(port: port, path: path) }
        return spec
    }
}
