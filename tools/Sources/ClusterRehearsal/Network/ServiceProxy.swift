import Foundation

/// kube-proxy's job, with nftables: each ClusterIP (and NodePort on the node address) DNAT'd to
/// one of the Service's ready endpoints, picked at random per connection. Hooked in nat prerouting
/// (pods, through the node) and output (the host itself); traffic that was DNAT'd from the pod
/// network leaves with the node address, so a pod that reaches itself through its Service
/// (hairpin) does not receive its own address as the source, which it would drop.
enum ServiceProxy {
    /// The whole table, replaced in one `nft -f` transaction (add, delete, add: atomic, and works
    /// whether or not the table exists yet).
    static func ruleset(_ services: [ServiceState], endpoints: [Endpoint], plan: NetworkPlan) -> String {
        var dispatch: [String] = []
        var chains: [String] = []
        // Headless Services have no address to proxy: DNS hands out the pods themselves.
        for state in services where state.clusterIP != nil {
            for (index, port) in state.service.ports.enumerated() {
                let chain = "svc-\(state.service.name)-\(port.port)"
                let targets = endpoints.filter { $0.matches(state.service.selector) }.compactMap { endpoint in
                    endpoint.port(port.targetPort).map { "\(endpoint.address):\($0)" }
                }
                if let clusterIP = state.clusterIP {
                    dispatch.append("ip daddr \(clusterIP) tcp dport \(port.port) jump \(chain)")
                }
                if let nodePort = state.nodePorts[safe: index] ?? nil {
                    dispatch.append("ip daddr \(plan.nodeAddress) tcp dport \(nodePort) jump \(chain)")
                }
                chains.append(serviceChain(chain, targets: targets))
                for (number, target) in targets.enumerated() {
                    chains.append("chain \(chain)-\(number) {\n meta l4proto tcp dnat to \(target)\n}")
                }
            }
        }
        let table = plan.natTable
        return """
            table ip \(table) {}
            delete table ip \(table)
            table ip \(table) {
            chain prerouting {
             type nat hook prerouting priority dstnat
             jump services
            }
            chain output {
             type nat hook output priority -100
             jump services
            }
            chain postrouting {
             type nat hook postrouting priority srcnat
             ct status dnat ip saddr \(plan.podNetwork).0/24 snat to \(plan.nodeAddress)
            }
            chain services {
            \(dispatch.map { " " + $0 }.joined(separator: "\n"))
            }
            \(chains.joined(separator: "\n"))
            }

            """
    }

    /// No endpoints: the connection is dropped (kube-proxy rejects; dropping is what nat chains can do).
    private static func serviceChain(_ name: String, targets: [String]) -> String {
        guard !targets.isEmpty else { return "chain \(name) {\n drop\n}" }
        let map = targets.indices.map { "\($0) : jump \(name)-\($0)" }.joined(separator: ", ")
        return "chain \(name) {\n numgen random mod \(targets.count) vmap { \(map) }\n}"
    }

    static func apply(_ ruleset: String, stateDirectory: String) async throws(RehearsalError) {
        let file = stateDirectory + "/nft-\(UUID().uuidString.prefix(8)).nft"
        do {
            try ruleset.write(toFile: file, atomically: true, encoding: .utf8)
        } catch {
            throw RehearsalError("cannot write \(file): \(error)")
        }
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await Command.check(["nft", "-f", file])
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
