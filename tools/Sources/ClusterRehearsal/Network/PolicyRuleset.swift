/// The network plugin's data path: the resolved policies as one nft table. Each rule is a line
/// matching sets of addresses (the pods a policy selects, its peers) and of protocol . port (or
/// protocol . address . port, for named ports looked up on each pod); the Swift side only fills
/// the sets. Replaced whole with every change of pods or policies (`nft -f`, one transaction).
///
/// Where it filters: pods reach each other only through the node (PodNetwork: /32 addresses on
/// routed links), so every pod-to-pod packet passes the forward hook — after the nat table's
/// DNAT of ClusterIPs and NodePorts (priority dstnat) and before its source NAT (srcnat):
/// rules see the pod addresses on both sides, as with kube-proxy and a CNI. A pod's packets to
/// the node itself pass the input hook, where its egress applies too. The node's own connections
/// (the kubelet's probes, NodePort clients on the host, nsupdate) leave through the output hook,
/// which no policy governs: as in a cluster, the node may always reach its pods.
enum PolicyRuleset {
    static func ruleset(_ enforcement: PolicyEnforcement, plan: NetworkPlan) -> String {
        var sets = [
            addressSet("ingress-isolated", enforcement.isolated(.ingress)), addressSet("egress-isolated", enforcement.isolated(.egress)),
        ]
        var lines: [NetworkPolicy.Direction: [String]] = [.ingress: [], .egress: []]
        for (number, rule) in enforcement.rules.enumerated() {
            let (made, ruleLines) = self.lines(rule, name: "r\(number)")
            sets += made
            lines[rule.direction, default: []] += ruleLines
        }
        let table = plan.filterTable, pods = plan.podLinks
        return """
            table ip \(table) {}
            delete table ip \(table)
            table ip \(table) {
            \(sets.joined(separator: "\n"))
            chain forward {
             type filter hook forward priority filter; policy accept;
             iifname != "\(pods)" accept
             ct state established,related accept
             ip saddr @egress-isolated jump egress-rules
             ip daddr @ingress-isolated jump ingress-rules
            }
            chain input {
             type filter hook input priority filter; policy accept;
             iifname != "\(pods)" accept
             ct state established,related accept
             ip saddr @egress-isolated jump egress-rules
            }
            chain egress-rules {
            \((lines[.egress] ?? []).map { " " + $0 }.joined(separator: "\n"))
             counter drop
            }
            chain ingress-rules {
            \((lines[.ingress] ?? []).map { " " + $0 }.joined(separator: "\n"))
             counter drop
            }
            }

            """
    }

    /// A rule's sets and lines: egress rules `return` (the destination's ingress is asked next),
    /// ingress rules `accept`. A rule whose ports resolve to nothing allows nothing: no line.
    private static func lines(_ rule: PolicyEnforcement.Rule, name: String) -> (sets: [String], lines: [String]) {
        var sets = [addressSet(name + "-pods", rule.subjects)]
        let (own, other) = rule.direction == .ingress ? ("daddr", "saddr") : ("saddr", "daddr")
        var match = "ip \(own) @\(name)-pods"
        switch rule.peer {
        case .anyone:
            break
        case .addresses(let addresses):
            sets.append(addressSet(name + "-peers", addresses))
            match += " ip \(other) @\(name)-peers"
        case .block(let block, let except):
            match += " ip \(other) \(block)"
            if !except.isEmpty { match += " ip \(other) != { \(except.map(\.description).joined(separator: ", ")) }" }
        }
        let end = "\(rule.direction == .ingress ? "accept" : "return") comment \"\(rule.origin)\""
        guard let ports = rule.ports else { return (sets, ["\(match) \(end)"]) }
        var lines: [String] = []
        let anyAddress = ports.filter { $0.address == nil }, perPod = ports.filter { $0.address != nil }
        if !anyAddress.isEmpty {
            sets.append(portSet(name + "-ports", anyAddress, withAddress: false))
            lines.append("\(match) meta l4proto . th dport @\(name)-ports \(end)")
        }
        if !perPod.isEmpty {
            sets.append(portSet(name + "-pod-ports", perPod, withAddress: true))
            lines.append("\(match) meta l4proto . ip daddr . th dport @\(name)-pod-ports \(end)")
        }
        return (sets, lines)
    }

    private static func addressSet(_ name: String, _ addresses: Set<String>) -> String {
        let elements = addresses.isEmpty ? "" : " elements = { \(addresses.sorted().joined(separator: ", ")) }"
        return "set \(name) { type ipv4_addr;\(elements) }"
    }

    /// An interval set (port ranges); ranges that overlap or touch are merged, which nft requires.
    private static func portSet(_ name: String, _ ports: Set<PolicyEnforcement.AllowedPort>, withAddress: Bool) -> String {
        let groups = Dictionary(grouping: ports) { "\($0.transport.nftName)\(withAddress ? " . " + ($0.address ?? "") : "")" }
        var elements: [String] = []
        for key in groups.keys.sorted() {
            var ranges: [ClosedRange<Int>] = []
            for port in (groups[key] ?? []).sorted(by: { $0.first < $1.first }) {
                if let last = ranges.last, port.first <= last.upperBound + 1 {
                    ranges[ranges.count - 1] = last.lowerBound...max(last.upperBound, port.last)
                } else {
                    ranges.append(port.first...port.last)
                }
            }
            elements += ranges.map { "\(key) . \($0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)")" }
        }
        let type = withAddress ? "inet_proto . ipv4_addr . inet_service" : "inet_proto . inet_service"
        return "set \(name) { type \(type); flags interval; elements = { \(elements.joined(separator: ", ")) } }"
    }
}
