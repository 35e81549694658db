import Foundation

/// One pod's network: its own namespace with loopback, an `eth0` whose peer sits in the node's
/// bridge, its address, a default route through the node, and `/etc/netns/<ns>/resolv.conf`
/// (which `ip netns exec` bind-mounts over /etc/resolv.conf) pointing at the cluster DNS.
enum PodNetwork {
    static let searchPath = "micro.svc.cluster.local svc.cluster.local cluster.local"

    static func create(
        namespace: String, hostInterface: String, address: String, plan: NetworkPlan, resolver: String?
    ) async throws(RehearsalError) {
        try await Command.check(["ip", "netns", "add", namespace])
        try await Command.check(["ip", "link", "add", hostInterface, "type", "veth", "peer", "name", "eth0", "netns", namespace])
        try await Command.check(["ip", "link", "set", hostInterface, "master", plan.bridge, "up"])
        // Hairpin: a pod reaching its own Service address is DNAT'd back out of the port it came
        // in on, which a bridge refuses by default (kubelet sets this too).
        try await Command.check(["ip", "link", "set", hostInterface, "type", "bridge_slave", "hairpin", "on"])
        try await Command.check(["ip", "-n", namespace, "addr", "add", address + "/24", "dev", "eth0"])
        try await Command.check(["ip", "-n", namespace, "link", "set", "eth0", "up"])
        try await Command.check(["ip", "-n", namespace, "link", "set", "lo", "up"])
        try await Command.check(["ip", "-n", namespace, "route", "add", "default", "via", plan.nodeAddress])
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

    /// Deleting the namespace destroys its eth0 and with it the veth peer in the bridge.
    static func delete(namespace: String) async {
        await NodeNetwork.killProcesses(inNamespace: namespace)
        _ = try? await Command.run(["ip", "netns", "delete", namespace])
        try? FileManager.default.removeItem(atPath: "/etc/netns/" + namespace)
    }
}
