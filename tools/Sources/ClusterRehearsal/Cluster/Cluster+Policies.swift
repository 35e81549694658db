import Foundation

/// The network plugin's part: the NetworkPolicies of the applied manifests, resolved against
/// the pods that hold an address, enforced by the nft table PolicyRuleset makes.
extension Cluster {
    /// The policies as they apply now: what the nft rules enforce, and the verdicts tests ask for.
    public func policyEnforcement() -> PolicyEnforcement {
        PolicyEnforcement(
            policies: networkPolicies, pods: policyPods(), namespaceLabels: namespaceLabels, defaultNamespace: options.namespace)
    }

    /// Every pod with an address (from its creation, before its container starts, until it is
    /// gone; a finished Job's pod has given its address back), and the cluster DNS.
    private func policyPods() -> [PolicyPod] {
        let own = pods.values.filter { !$0.isFinished }.sorted { $0.name < $1.name }.map { pod in
            PolicyPod(
                name: pod.name, namespace: pod.workload.namespace ?? options.namespace, labels: pod.workload.template.labels,
                address: pod.address, ports: pod.workload.template.containers.flatMap(\.ports)
            )
        }
        return [PolicyPod.clusterDNS(address: plan.dnsAddress)] + own
    }

    /// `kubectl apply` of policies and namespaces: each replaces the one of its namespace and name.
    func applyPolicies(_ manifest: ClusterManifest) -> [String] {
        var lines: [String] = []
        for policy in manifest.networkPolicies {
            let object = "networkpolicy.networking.k8s.io/\(policy.name)"
            if let index = networkPolicies.firstIndex(where: { $0.name == policy.name && $0.namespace == policy.namespace }) {
                lines.append("\(object) \(networkPolicies[index] == policy ? "unchanged" : "configured")")
                networkPolicies[index] = policy
            } else {
                lines.append("\(object) created")
                networkPolicies.append(policy)
            }
        }
        namespaceLabels.merge(manifest.namespaceLabels) { $1 }
        return lines
    }
}
