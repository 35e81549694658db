import Foundation

/// The node: a bridge in the host namespace holding the node address, with every pod's veth in it,
/// a route to the ClusterIP range (so the host's own connections reach the nat output hook), and
/// IPv4 forwarding (pods reach ClusterIPs through the node, as through kube-proxy's rules).
enum NodeNetwork {
    private static let forwarding = "/proc/sys/net/ipv4/ip_forward"

    static func create(_ plan: NetworkPlan, stateDirectory: String) async throws(RehearsalError) {
        try await Command.check(["ip", "link", "add", plan.bridge, "type", "bridge"])
        try await Command.check(["ip", "addr", "add", plan.nodeAddress + "/24", "dev", plan.bridge])
        try await Command.check(["ip", "link", "set", plan.bridge, "up"])
        try await Command.check(["ip", "route", "add", plan.serviceNetwork + ".0/24", "dev", plan.bridge])
        // Remember forwarding as it was, to put it back on the way out (also after a crash: `down`).
        let saved = savedForwardingPath(plan)
        if !FileManager.default.fileExists(atPath: saved), let old = try? String(contentsOfFile: forwarding, encoding: .utf8) {
            try? old.write(toFile: saved, atomically: true, encoding: .utf8)
        }
        do {
            try "1\n".write(toFile: forwarding, atomically: false, encoding: .utf8)
        } catch {
            throw RehearsalError("cannot enable IPv4 forwarding: \(error)")
        }
    }

    /// Removes everything with the plan's prefix: its podman containers, processes in its
    /// namespaces, the namespaces and their /etc/netns folders, interfaces, the nft table;
    /// restores IPv4 forwarding.
    static func removeLeftovers(_ plan: NetworkPlan) async -> [String] {
        var removed = await ImageRuntime.removeLeftovers(owner: plan.prefix)
        let namespaces = (try? await Command.check(["ip", "netns", "list"])) ?? ""
        for line in namespaces.split(separator: "\n") {
            guard let name = line.split(separator: " ").first.map(String.init), name.hasPrefix(plan.prefix) else { continue }
            await killProcesses(inNamespace: name)
            _ = try? await Command.run(["ip", "netns", "delete", name])
            removed.append("namespace \(name)")
        }
        for folder in (try? FileManager.default.contentsOfDirectory(atPath: "/etc/netns")) ?? [] where folder.hasPrefix(plan.prefix) {
            try? FileManager.default.removeItem(atPath: "/etc/netns/" + folder)
        }
        let links = (try? await Command.check(["ip", "-o", "link", "show"])) ?? ""
        for line in links.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 1 else { continue }
            let name = String(fields[1].dropLast().split(separator: "@").first ?? "")
            guard name.hasPrefix(plan.prefix) else { continue }
            _ = try? await Command.run(["ip", "link", "delete", name])
            removed.append("interface \(name)")
        }
        if (try? await Command.check(["nft", "list", "table", "ip", plan.natTable])) != nil {
            _ = try? await Command.run(["nft", "delete", "table", "ip", plan.natTable])
            removed.append("nft table ip \(plan.natTable)")
        }
        restoreForwarding(plan)
        return removed
    }

    /// SIGKILL to everything still running in a namespace (what a crashed run left there).
    static func killProcesses(inNamespace name: String) async {
        let pids = (try? await Command.check(["ip", "netns", "pids", name])) ?? ""
        for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
    }

    private static func savedForwardingPath(_ plan: NetworkPlan) -> String { "/run/\(plan.prefix)ip_forward" }

    private static func restoreForwarding(_ plan: NetworkPlan) {
        let saved = savedForwardingPath(plan)
        guard let old = try? String(contentsOfFile: saved, encoding: .utf8) else { return }
        try? old.write(toFile: forwarding, atomically: false, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: saved)
    }
}
