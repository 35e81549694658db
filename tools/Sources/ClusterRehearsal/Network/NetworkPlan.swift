/// Addresses and names of one rehearsal. Every namespace, interface and nft table starts with
/// `prefix`, so start-up and `rehearse down` can find what a crashed run left behind.
public struct NetworkPlan: Sendable {
    public var prefix: String
    /// The pods' /24 (first three octets); the node (the bridge in the host) is .1, DNS .2.
    public var podNetwork: String
    /// The /24 of ClusterIP virtual addresses.
    public var serviceNetwork: String

    /// 10.213/10.214 clash with nothing on these machines (their routes are 192.0.2.0/24 and default).
    public init(prefix: String = "mr-", podNetwork: String = "10.213.0", serviceNetwork: String = "10.214.0") {
        self.prefix = prefix
        self.podNetwork = podNetwork
        self.serviceNetwork = serviceNetwork
    }

    public var nodeAddress: String { podNetwork + ".1" }
    public var dnsAddress: String { podNetwork + ".2" }
    var bridge: String { prefix + "br0" }
    /// The host side of every pod's link (`<prefix>v1`, …, `<prefix>vdns`), as nft matches them.
    var podLinks: String { prefix + "v*" }
    var dnsNamespace: String { prefix + "dns" }
    var natTable: String { prefix + "nat" }
    /// The network policies (PolicyRuleset).
    var filterTable: String { prefix + "filter" }
    /// Pod addresses: .10 … .250.
    var podHosts: ClosedRange<Int> { 10...250 }
    func podAddress(_ host: Int) -> String { "\(podNetwork).\(host)" }
    func serviceAddress(_ host: Int) -> String { "\(serviceNetwork).\(host)" }
    func namespace(forPod pod: String) -> String { prefix + pod }
}
