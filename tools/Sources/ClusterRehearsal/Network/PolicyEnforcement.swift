/// A pod as network policies see it: its namespace, labels, address and container ports.
public struct PolicyPod: Sendable, Hashable {
    public var name: String
    public var namespace: String
    public var labels: [String: String]
    public var address: String
    public var ports: [ContainerPort]

    public init(name: String, namespace: String, labels: [String: String], address: String, ports: [ContainerPort]) {
        self.name = name
        self.namespace = namespace
        self.labels = labels
        self.address = address
        self.ports = ports
    }
}

extension PolicyPod {
    /// The cluster DNS as policies see it: CoreDNS's namespace, label and ports, as kubeadm,
    /// minikube and the managed clusters name them (the rehearsal's BIND stands in for it).
    public static func clusterDNS(address: String) -> PolicyPod {
        PolicyPod(
            name: "kube-dns", namespace: "kube-system", labels: ["k8s-app": "kube-dns"], address: address,
            ports: [ContainerPort(name: "dns", number: 53, transport: .udp), ContainerPort(name: "dns-tcp", number: 53, transport: .tcp)]
        )
    }
}

/// The network policies resolved against the pods that exist now, in addresses and port
/// numbers: what a network plugin programs into its data path. The nft table (`PolicyRuleset`)
/// and the verdicts tests ask for (`allows`) are both read from these rules, so the rehearsal
/// enforces exactly what its verdicts say.
///
/// Kubernetes' semantics: a pod selected by a policy of type Ingress (Egress) is isolated in that
/// direction, and then only what some rule of such a policy allows passes; a connection needs
/// the source's egress and the destination's ingress. A named port is the destination pod's
/// container port of that name and protocol.
public struct PolicyEnforcement: Sendable {
    public let pods: [PolicyPod]
    var isolation: [NetworkPolicy.Direction: Set<String>] = [.ingress: [], .egress: []]
    var rules: [Rule] = []

    /// One rule of one policy against one kind of peer.
    struct Rule: Sendable {
        var direction: NetworkPolicy.Direction
        /// "micro/webapp egress[0]": the nft rule's comment.
        var origin: String
        /// The addresses of the pods the policy selects.
        var subjects: Set<String>
        var peer: Peer
        /// nil: every port and protocol.
        var ports: Set<AllowedPort>?
    }

    enum Peer: Sendable {
        case anyone
        case addresses(Set<String>)
        case block(IPv4Block, except: [IPv4Block])

        func contains(_ address: String) -> Bool {
            switch self {
            case .anyone: true
            case .addresses(let addresses): addresses.contains(address)
            case .block(let block, let except): block.contains(address) && !except.contains { $0.contains(address) }
            }
        }
    }

    /// Ports of one protocol; `address` set when a named port was looked up on that pod.
    struct AllowedPort: Sendable, Hashable {
        var transport: Transport
        var address: String?
        var first: Int
        var last: Int
    }

    /// - Parameters:
    ///   - namespaceLabels: the labels of Namespace objects; every namespace also carries
    ///     `kubernetes.io/metadata.name`, as Kubernetes sets it.
    ///   - defaultNamespace: the namespace of a policy that names none.
    public init(policies: [NetworkPolicy], pods: [PolicyPod], namespaceLabels: [String: [String: String]], defaultNamespace: String) {
        self.pods = pods
        let labels: (String) -> [String: String] = { namespace in
            (namespaceLabels[namespace] ?? [:]).merging(["kubernetes.io/metadata.name": namespace]) { $1 }
        }
        for policy in policies.sorted(by: { ($0.namespace ?? "", $0.name) < ($1.namespace ?? "", $1.name) }) {
            let namespace = policy.namespace ?? defaultNamespace
            let subjects = pods.filter { $0.namespace == namespace && policy.podSelector.matches($0.labels) }
            for direction in NetworkPolicy.Direction.allCases where policy.policyTypes.contains(direction) {
                isolation[direction, default: []].formUnion(subjects.map(\.address))
                for (index, rule) in policy.rules(direction).enumerated() {
                    let origin = "\(namespace)/\(policy.name) \(direction.rawValue.lowercased())[\(index)]"
                    for peer in Self.peers(rule.peers, namespace: namespace, pods: pods, labels: labels) {
                        // A named port is the destination's: the selected pods' (ingress) or the peers' (egress).
                        let destinations = direction == .ingress ? subjects : pods.filter { peer.contains($0.address) }
                        let ports = rule.ports.map { Set($0.flatMap { Self.allowed($0, on: destinations) }) }
                        rules.append(
                            Rule(direction: direction, origin: origin, subjects: Set(subjects.map(\.address)), peer: peer, ports: ports))
                    }
                }
            }
        }
    }

    private static func peers(
        _ peers: [PolicyPeer]?, namespace: String, pods: [PolicyPod], labels: (String) -> [String: String]
    ) -> [Peer] {
        guard let peers else { return [.anyone] }
        return peers.map { peer in
            switch peer {
            case .pods(let namespaces, let selector):
                let matching = pods.filter { pod in
                    (namespaces.map { $0.matches(labels(pod.namespace)) } ?? (pod.namespace == namespace))
                        && (selector?.matches(pod.labels) ?? true)
                }
                return .addresses(Set(matching.map(\.address)))
            case .ipBlock(let block, let except):
                return .block(block, except: except)
            }
        }
    }

    private static func allowed(_ port: PolicyPort, on pods: [PolicyPod]) -> [AllowedPort] {
        switch port.port {
        case nil:
            return [AllowedPort(transport: port.transport, address: nil, first: 1, last: 65535)]
        case .number(let number):
            return [AllowedPort(transport: port.transport, address: nil, first: number, last: port.endPort ?? number)]
        case .name(let name):
            return pods.compactMap { pod in
                pod.ports.first { $0.name == name && $0.transport == port.transport }.map {
                    AllowedPort(transport: port.transport, address: pod.address, first: $0.number, last: $0.number)
                }
            }
        }
    }

    // MARK: verdicts

    /// Whether the policies let `source` open a connection to `destination`:`port`: the source's
    /// egress and the destination's ingress both allow it.
    public func allows(from source: String, to destination: String, port: Int, transport: Transport = .tcp) -> Bool {
        permits(.egress, from: source, to: destination, port: port, transport: transport)
            && permits(.ingress, from: source, to: destination, port: port, transport: transport)
    }

    /// One side's verdict: a pod not isolated in that direction lets everything through.
    public func permits(_ direction: NetworkPolicy.Direction, from source: String, to destination: String, port: Int, transport: Transport)
        -> Bool
    {
        let subject = direction == .ingress ? destination : source
        guard isolation[direction]?.contains(subject) == true else { return true }
        return rules.contains { rule in
            rule.direction == direction && rule.subjects.contains(subject)
                && rule.peer.contains(direction == .ingress ? source : destination)
                && (rule.ports?.contains { allowed in
                    allowed.transport == transport && (allowed.address ?? destination) == destination
                        && (allowed.first...allowed.last).contains(port)
                } ?? true)
        }
    }

    /// The pods isolated in a direction (selected by some policy of that type).
    public func isolated(_ direction: NetworkPolicy.Direction) -> Set<String> { isolation[direction] ?? [] }
}
