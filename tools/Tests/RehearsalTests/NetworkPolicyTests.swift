import Foundation
import TestSupport
import Testing

@testable import ClusterRehearsal

extension ScenarioTests {
    /// The overlay's NetworkPolicies enforced by the rehearsal's nft rules, tried from inside
    /// every pod's network namespace: what the policies allow connects, nothing else does.
    @Suite(.serialized) struct NetworkPolicyTests {
        /// Two pods beside micro's: adderservice's image under a label no policy names (a
        /// stranger in namespace micro), and the same in namespace monitoring (where Prometheus runs).
        static func addStrangers(_ manifest: inout ClusterManifest) {
            guard let adder = manifest.workload("adderservice") else { return }
            var stranger = adder
            stranger.name = "stranger"
            stranger.template.labels = ["app.kubernetes.io/name": "stranger"]
            var scraper = adder
            scraper.name = "scraper"
            scraper.namespace = "monitoring"
            scraper.template.labels = ["app.kubernetes.io/name": "scraper"]
            manifest.workloads += [stranger, scraper]
        }

        /// A connection to try: what is dialled (a pod's address, a ClusterIP, a NodePort on the
        /// node) and the pod port it ends at, which the policies' verdict is about.
        struct Path: CustomStringConvertible {
            var target: Reachability.Target
            var pod: PolicyPod
            var port: Int
            var description: String {
                target.address == pod.address ? "\(pod.name):\(port)/\(target.transport.rawValue)" : "\(target) (\(pod.name):\(port))"
            }
        }

        /// Every port of every pod, and every ClusterIP and NodePort port with the pod behind it.
        static func paths(_ enforcement: PolicyEnforcement, services: [ServiceState], node: String) -> [Path] {
            var paths: [Path] = []
            for pod in enforcement.pods {
                for port in pod.ports {
                    paths.append(
                        Path(target: .init(address: pod.address, port: port.number, transport: port.transport), pod: pod, port: port.number)
                    )
                }
            }
            for state in services {
                let behind = enforcement.pods.filter { pod in
                    !state.service.selector.isEmpty && state.service.selector.allSatisfy { pod.labels[$0.key] == $0.value }
                }
                guard behind.count == 1, let pod = behind.first else { continue }
                let endpoint = Endpoint(pod: pod.name, address: pod.address, labels: pod.labels, ports: pod.ports)
                for (index, port) in state.service.ports.enumerated() {
                    guard let number = endpoint.port(port.targetPort) else { continue }
                    if let clusterIP = state.clusterIP {
                        paths.append(Path(target: .init(address: clusterIP, port: port.port, transport: .tcp), pod: pod, port: number))
                    }
                    if let nodePort = state.nodePorts[safe: index] ?? nil {
                        paths.append(Path(target: .init(address: node, port: nodePort, transport: .tcp), pod: pod, port: number))
                    }
                }
            }
            return paths
        }

        /// One connection tried: from which workload (or the node), to which, through which address.
        struct Try {
            var from: String
            var to: String
            /// The destination pod's port name (its number when it has none).
            var port: String
            var path: String
            var connected: Bool
        }

        /// Tries every path from every running pod and from the node, all at once, and expects
        /// each to connect exactly when the policies allow it (the node: always).
        static func tryEveryPath(_ rehearsal: RehearsedCluster) async throws -> (tries: [Try], sources: Int) {
            let enforcement = await rehearsal.cluster.policyEnforcement()
            let paths = Self.paths(
                enforcement, services: await rehearsal.cluster.serviceStates(), node: await rehearsal.cluster.nodeAddress)
            let workloads = Dictionary(await rehearsal.cluster.podList().map { ($0.name, $0.workload) }) { first, _ in first }
            let running = Set(await rehearsal.cluster.podList().filter { $0.status == "Running" }.map(\.name))
            let sources = enforcement.pods.filter { running.contains($0.name) }
            var tries: [Try] = []
            try await withThrowingTaskGroup(of: (PolicyPod?, [Reachability.Target: Bool]).self) { group in
                for source in sources {
                    group.addTask { (source, try await Reachability.reached(from: "mr-" + source.name, paths.map(\.target))) }
                }
                group.addTask { (nil, try await Reachability.reached(from: nil, paths.map(\.target))) }
                for try await (source, reached) in group {
                    let from = source.map { workloads[$0.name] ?? $0.name } ?? "the node"
                    for path in paths where path.pod.address != source?.address {
                        let connected = try #require(reached[path.target], "no result for \(path)")
                        // The node may always reach its pods; a pod's paths are the policies' verdict.
                        let allowed =
                            source.map {
                                enforcement.allows(
                                    from: $0.address, to: path.pod.address, port: path.port, transport: path.target.transport)
                            } ?? true
                        #expect(
                            connected == allowed,
                            "\(from) → \(path): \(connected ? "connected" : "blocked"), the policies say \(allowed ? "allowed" : "denied")")
                        let port =
                            path.pod.ports.first { $0.number == path.port && $0.transport == path.target.transport }?.name ?? "\(path.port)"
                        tries.append(
                            Try(
                                from: from, to: workloads[path.pod.name] ?? path.pod.name, port: port, path: path.description,
                                connected: connected))
                    }
                }
            }
            return (tries, sources.count)
        }

        @Test("a pod outside the allow list reaches no pod of micro; every path the policies open connects, every other is blocked")
        func policiesAreEnforced() async throws {
            try await RehearsedCluster.run(change: Self.addStrangers) { rehearsal in
                let start = ContinuousClock.now
                let (tries, sources) = try await Self.tryEveryPath(rehearsal)
                let took = (ContinuousClock.now - start).seconds
                #expect(sources == 8, "pods tried from: \(sources)")
                // The issue's cases by name: the stranger reaches none of micro's data or services,
                // the webapp what it calls (through every address it has: pod, ClusterIP).
                for pod in ["mongo", "redis", "adderservice", "auditservice"] {
                    let tried = tries.filter { $0.from == "stranger" && $0.to == pod }
                    #expect(!tried.isEmpty && tried.allSatisfy { !$0.connected }, "the stranger → \(pod): \(tried)")
                }
                for pod in ["redis", "adderservice", "auditservice"] {
                    #expect(tries.contains { $0.from == "webapp" && $0.to == pod && $0.connected }, "the webapp → \(pod)")
                }
                let open = tries.filter(\.connected).count
                print(
                    "rehearsal: (policies) \(tries.count) connections tried from \(sources) pods and the node in \(String(format: "%.1f", took)) s: \(open) connected, \(tries.count - open) blocked, each as the policies say"
                )

                // A policy applied later takes effect at once, with the selectors and ports the
                // overlay does not use: matchExpressions, ipBlock with except, a port range.
                let stranger = try #require(await rehearsal.pods("stranger").first)
                let scraper = try #require(await rehearsal.pods("scraper").first)
                let lines = try await rehearsal.cluster.apply(try ClusterManifest(yaml: Self.strangerMayAdd(except: scraper.address)))
                #expect(lines.contains("networkpolicy.networking.k8s.io/stranger-may-add created"), "\(lines)")
                let (after, _) = try await Self.tryEveryPath(rehearsal)
                #expect(
                    after.contains { $0.from == "stranger" && $0.to == "adderservice" && $0.port == "main" && $0.connected },
                    "the stranger → adderservice")
                #expect(!after.contains { $0.from == "stranger" && $0.to == "auditservice" && $0.connected }, "the stranger → auditservice")
                #expect(
                    !after.contains { $0.from == "scraper" && $0.to == "adderservice" && $0.port == "main" && $0.connected },
                    "the scraper → adderservice")
                print(
                    "rehearsal: (policies) a policy applied later (matchExpressions, ipBlock except \(scraper.address), ports 8000-8100): the stranger \(stranger.name) reaches adderservice, and every path is again as the policies say"
                )
            }
        }

        /// Lets the stranger call adderservice: the stranger's egress to any labelled pod on ports
        /// 8000-8100, adderservice's ingress from the pod network but the scraper, on the same range.
        static func strangerMayAdd(except excluded: String) -> String {
            """
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: stranger-may-add, namespace: micro}
            spec:
              podSelector:
                matchExpressions: [{key: app.kubernetes.io/name, operator: In, values: [adderservice]}]
              policyTypes: [Ingress]
              ingress:
                - from: [{ipBlock: {cidr: 10.213.0.0/24, except: ["\(excluded)/32"]}}]
                  ports: [{port: 8000, endPort: 8100}]
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: stranger-egress, namespace: micro}
            spec:
              podSelector:
                matchLabels: {app.kubernetes.io/name: stranger}
              policyTypes: [Egress]
              egress:
                - to: [{podSelector: {matchExpressions: [{key: app.kubernetes.io/name, operator: Exists}]}}]
                  ports: [{protocol: TCP, port: 8000, endPort: 8100}]
            """
        }
    }
}
