import Foundation
import ProcessSupervision

/// The rehearsed cluster: one node (the host), pods in network namespaces, a cluster DNS, kube-proxy
/// rules, and the controllers for Deployments, StatefulSets and Jobs. One actor owns all state;
/// processes and probes report back to it.
public actor Cluster {
    let options: ClusterOptions
    let plan: NetworkPlan
    let sink = OutputSink(names: [], color: false)
    let dns: ClusterDNS
    var services: [ServiceState] = []
    var networkPolicies: [NetworkPolicy]
    var namespaceLabels: [String: [String: String]]
    var pods: [String: Pod] = [:]
    var workloads: [String: Workload] = [:]
    /// The rollouts in progress (the Deployment and StatefulSet controllers' updates), by workload;
    /// the number tells a rollout from the one that replaced it.
    var rollouts: [String: (number: Int, task: Task<Void, Never>)] = [:]
    var rolloutsStarted = 0
    var nextInterface = 0
    /// The pod address given last (see `allocateHost`).
    var lastHost = 0
    var lastNetworkSync: Task<Void, Never>?
    var stopped = false
    /// Pod → volume name → host folder.
    var volumeFolders: [String: [String: String]] = [:]
    /// The Secrets and ConfigMaps given so far (at start and by every apply).
    var configuration = ConfigurationSources()
    /// Callers waiting for a pod to be gone.
    var terminationWaiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    init(options: ClusterOptions) {
        self.options = options
        plan = options.plan
        dns = ClusterDNS(plan: options.plan, stateDirectory: options.stateDirectory)
        networkPolicies = options.manifest.networkPolicies
        namespaceLabels = options.manifest.namespaceLabels
        for workload in options.manifest.workloads { workloads[workload.name] = workload }
        configuration.merge(options.manifest)
    }

    /// Removes what an earlier run left, builds the node network, DNS and Services, and starts
    /// every Deployment and StatefulSet of the options' manifest (Jobs run on demand: `runJob`);
    /// more come with `apply`. On failure everything made so far is removed again.
    public static func start(_ options: ClusterOptions) async throws -> Cluster {
        let cluster = Cluster(options: options)
        do {
            try await cluster.bringUp()
        } catch {
            await cluster.shutdown()
            throw error
        }
        return cluster
    }

    private func bringUp() async throws {
        guard getuid() == 0 else { throw RehearsalError("the rehearsal needs root (network namespaces, nftables)") }
        for leftover in await NodeNetwork.removeLeftovers(plan) { say("removed leftover \(leftover)") }
        try FileManager.default.createDirectory(atPath: options.stateDirectory + "/logs", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: options.stateDirectory + "/pods", withIntermediateDirectories: true)
        try await NodeNetwork.create(plan, stateDirectory: options.stateDirectory)
        services = Self.allocate(options.manifest.services, plan: plan, existing: [])
        try await ServiceProxy.apply(ServiceProxy.ruleset(services, endpoints: [], plan: plan), stateDirectory: options.stateDirectory)
        try await dns.start(logFile: options.stateDirectory + "/logs/dns.log")
        // ClusterIP Services have their names before any pod is ready.
        await syncNetwork()
        for note in options.manifest.ignored { say("not rehearsed: \(note)") }
        for workload in options.manifest.workloads where workload.kind != .job { reconcile(workload.name) }
    }

    /// The Services after an apply: one already allocated keeps its cluster IP and node ports (when
    /// its kind and ports stay); a new one gets the next free cluster IP from .10, in manifest
    /// order, and its NodePorts as written, else the lowest free from 30000.
    static func allocate(_ objects: [ServiceObject], plan: NetworkPlan, existing: [ServiceState] = []) -> [ServiceState] {
        var result = existing.filter { state in !objects.contains { $0.name == state.service.name } }
        for object in objects {
            guard var state = existing.first(where: { $0.service.name == object.name }), state.service.kind == object.kind,
                state.service.ports.map(\.port) == object.ports.map(\.port)
            else { continue }
            state.service = object
            result.append(state)
        }
        var usedAddresses = Set(result.compactMap(\.clusterIP))
        var taken = Set(objects.flatMap { $0.ports.compactMap(\.nodePort) } + result.flatMap { $0.nodePorts.compactMap { $0 } })
        for service in objects where !result.contains(where: { $0.service.name == service.name }) {
            var clusterIP: String?
            if service.kind != .headless, let host = (10...250).first(where: { !usedAddresses.contains(plan.serviceAddress($0)) }) {
                clusterIP = plan.serviceAddress(host)
                usedAddresses.insert(plan.serviceAddress(host))
            }
            let nodePorts: [Int?] = service.ports.map { port in
                guard service.kind == .nodePort else { return nil }
                if let number = port.nodePort { return number }
                let number = (30000...32767).first { !taken.contains($0) } ?? 30000
                taken.insert(number)
                return number
            }
            result.append(ServiceState(service: service, clusterIP: clusterIP, nodePorts: nodePorts))
        }
        return result
    }

    func say(_ text: String) { sink.write("rehearse", text) }

    // MARK: what callers can see

    public var nodeAddress: String { plan.nodeAddress }

    /// The URL of a NodePort Service on the node address (`webapp-external`, for a browser or curl).
    public func nodeURL(service name: String) -> String? {
        guard let state = services.first(where: { $0.service.name == name }), let port = state.nodePorts.compactMap({ $0 }).first else {
            return nil
        }
        return "http://\(plan.nodeAddress):\(port)"
    }

    public func serviceStates() -> [ServiceState] { services }

    public func podList() -> [PodInfo] {
        pods.values.sorted { $0.name < $1.name }.map { pod in
            PodInfo(
                name: pod.name, workload: pod.workload.name, ready: pod.ready && !pod.terminating, status: pod.status,
                restarts: pod.restarts, address: pod.address, image: pod.container?.image ?? "",
                message: pod.process == nil ? pod.waiting?.message : nil, templateHash: pod.templateHash
            )
        }
    }

    /// The pod's whole output so far.
    public func logs(pod name: String) throws -> String {
        let path = logPath(name)
        guard FileManager.default.fileExists(atPath: path) else { throw RehearsalError("no pod \(name)") }
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    func logPath(_ pod: String) -> String { options.stateDirectory + "/logs/\(pod).log" }

    /// Waits until every Deployment and StatefulSet has all its replicas ready and nothing is terminating.
    public func waitUntilSettled(timeout: Duration = .seconds(120)) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if settled() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        let waiting = podList().filter { !$0.ready && !["Completed", "Error"].contains($0.status) }.map(\.name)
        throw RehearsalError("not settled within \(timeout): waiting for \(waiting.joined(separator: ", "))")
    }

    func settled() -> Bool {
        workloads.values.filter { $0.kind != .job }.allSatisfy { workload in
            let own = pods.values.filter { $0.workload.name == workload.name }
            return own.count == workload.replicas && own.allSatisfy { $0.ready && !$0.terminating }
                && own.allSatisfy { $0.templateHash == templateHash(workload.name) }
        }
    }
}
