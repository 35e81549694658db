import Foundation

/// One pod's network: its own namespace with loopback, an `eth0` whose peer is the host side of
/// the pod's link, its address, a default route through the node, and `/etc/netns/<ns>/resolv.conf`
/// (which `ip netns exec` bind-mounts over /etc/resolv.conf) pointing at the cluster DNS.
///
/// Routed, as Calico wires pods: the pod's address is a /32 and the node its only neighbour
/// (the host side answers ARP for the node address; the host routes the pod's /32 to its link).
/// Every packet between pods therefore passes the node's forward hook, where the network
/// policies apply (PolicyRuleset). A bridge would forward frames between pods itself, and with
/// the host's br_netfilter on it even bridges a ClusterIP's DNAT'd packets, past the routing.
enum PodNetwork {
    static let searchPath = "micro.svc.cluster.local svc.cluster.local cluster.local"

    static func create(
        namespace: String, hostInterface: String, address: String, plan: NetworkPlan, resolver: String?
    ) async throws(RehearsalError) {
        try await Command.check(["ip", "netns", "add", namespace])
        try await Command.check(["ip", "link", "add", hostInterface, "type", "veth", "peer", "name", "eth0", "netns", namespace])
        try await Command.check(["ip", "-n", namespace, "addr", "add", address + "/32", "dev", "eth0"])
        try await Command.check(["ip", "-n", namespace, "link", "set", "eth0", "up"])
        try await Command.check(["ip", "-n", namespace, "link", "set", "lo", "up"])
        try await Command.check(["ip", "link", "set", hostInterface, "up"])
        // The node's side: the pod's address on its link, reached from the node address.
        try await Command.check(["ip", "route", "add", address + "/32", "dev", hostInterface, "src", plan.nodeAddress])
        try await Command.check(["ip", "-n", namespace, "route", "add", "default", "via", plan.nodeAddress, "dev", "eth0", "onlink"])
        guard let resolver else { return }
        let folder = "/etc/netns/" + namespace
        let text = "nameserver \(resolver)\nsearch \(searchPath)\noptions ndots:5\n"
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try text.write(toFile: folder + "/resolv.conf", atomically: true, encoding: .utf8)
        } catch {
            throw RehearsalError("cannot write \(folder)/resolv.conf: \(error)")
        }
    }

    /// The file `ip netns exec` bind-mounts over /etc/resolv.conf (podman gets it as a volume).
    static func resolvConf(_ namespace: String) -> String { "/etc/netns/\(namespace)/resolv.conf" }

    /// Deleting the namespace destroys its eth0, and with it the host side and its route.
    static func delete(namespace: String) async {
        await NodeNetwork.killProcesses(inNamespace: namespace)
        _ = try? await Command.run(["ip", "netns", "delete", namespace])
        try? FileManager.default.removeItem(atPath: "/etc/netns/" + namespace)
    }
}
