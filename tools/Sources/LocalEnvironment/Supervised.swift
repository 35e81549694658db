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
    /// In watch mode, a service's ports are held by the launcher and forwarded to `current`'s
    /// (one forwarder per port, in the spec's order).
    var forwarders: [PortForwarder] = []
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

    /// New connections to the held ports go to `instance`'s (none: refused) from now on.
    func forward(to instance: Instance?) {
        for (index, forwarder) in forwarders.enumerated() {
            forwarder.forward(to: instance?.ports[safe: index])
        }
    }

    var ready: Bool { current?.ready ?? false }

    var name: String { spec.name }

    /// The instance of `generation`, wherever it is.
    func instance(_ generation: Int) -> Instance? {
        ([current, successor].compactMap { $0 } + retiring).first { $0.generation == generation }
    }

    /// Every process of this component that may still run.
    var processes: [SupervisedChild] { ([current, successor].compactMap { $0 } + retiring).map(\.child) }
}

extension Array {
    fileprivate subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}

/// One process of a component.
@MainActor
final class Instance {
    let generation: Int
    let child: SupervisedChild
    /// Where it listens: the service's ports, or in watch mode free ones the forwarders send to
    /// (in the spec's order).
    let ports: [Int]
    let startedAt = ContinuousClock.now
    var ready = false
    var lastProbe = "not asked yet"
    var lastProbeAt: ContinuousClock.Instant?
    var probe: Task<Void, Never>?

    init(generation: Int, child: SupervisedChild, ports: [Int]) {
        self.generation = generation
        self.child = child
        self.ports = ports
    }
}

extension ComponentSpec {
    /// The first port, the one DNS names and readiness asks.
    var mainPort: Int { ports.first?.port ?? 0 }

    /// The same service listening on `numbers` instead, one for each of its ports (a rolling
    /// restart's new process); readiness asks the new number of the port it asked.
    func listening(on numbers: [Int]) -> ComponentSpec {
        var spec = self
        var moved = ports
        for index in moved.indices where index < numbers.count { moved[index].port = numbers[index] }
        spec.environment.merge(Self.portEnvironment(entry: name, ports: moved)) { _, new in new }
        if case .http(let port, let path) = readiness, let index = ports.firstIndex(where: { $0.port == port }), index < numbers.count {
            spec.readiness = .http(port: numbers[index], path: path)
        }
        return spec
    }

    /// The variables that tell a service its ports, as Kubernetes sets them for a Service's
    /// ports: `<ENTRY>_SERVICE_PORT` the first, `<ENTRY>_SERVICE_PORT_<NAME>` each named one.
    static func portEnvironment(entry: String, ports: [PortUse]) -> [String: String] {
        let prefix = entry.uppercased() + "_SERVICE_PORT"
        var environment: [String: String] = [:]
        if let first = ports.first { environment[prefix] = "\(first.port)" }
        for use in ports {
            guard let name = use.name else { continue }
            environment[prefix + "_" + String(name.uppercased().map { $0 == "-" ? "_" : $0 })] = "\(use.port)"
        }
        return environment
    }
}
