import Foundation
import TestSupport
import Testing

@testable import ClusterRehearsal

/// NetworkPolicy objects as the rehearsal reads and resolves them: Kubernetes' semantics, the
/// fields it refuses, and an nft table the kernel accepts.
@Suite struct PolicyTests {
    static func policies(_ yaml: String) throws -> [NetworkPolicy] { try ClusterManifest(yaml: yaml).networkPolicies }

    static func pod(
        _ name: String, _ address: String, namespace: String = "micro", labels: [String: String]? = nil, ports: [ContainerPort] = []
    ) -> PolicyPod {
        PolicyPod(name: name, namespace: namespace, labels: labels ?? ["app": name], address: address, ports: ports)
    }

    static let web = pod("web", "10.0.0.1", ports: [ContainerPort(name: "http", number: 3000)])
    static let api = pod(
        "api", "10.0.0.2", labels: ["app": "api", "tier": "back"],
        ports: [ContainerPort(name: "main", number: 8080), ContainerPort(name: "metrics", number: 9080)])
    static let api2 = pod("api2", "10.0.0.3", labels: ["app": "api", "tier": "back"], ports: [ContainerPort(name: "main", number: 8090)])
    static let db = pod("db", "10.0.0.4", labels: ["app": "db", "tier": "data"], ports: [ContainerPort(name: "main", number: 5432)])
    static let prometheus = pod("prometheus", "10.1.0.1", namespace: "monitoring")
    static let impostor = pod("impostor", "10.2.0.1", namespace: "other", labels: ["app": "web"])
    static let everyone = [web, api, api2, db, prometheus, impostor]

    static func enforce(_ yaml: String, pods: [PolicyPod] = everyone, namespaces: [String: [String: String]] = [:]) throws
        -> PolicyEnforcement
    {
        PolicyEnforcement(policies: try policies(yaml), pods: pods, namespaceLabels: namespaces, defaultNamespace: "micro")
    }

    static let denyAll = """
        kind: NetworkPolicy
        metadata: {name: deny, namespace: micro}
        spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
        """

    @Test func withoutPoliciesEverythingPasses() throws {
        let open = try Self.enforce("")
        #expect(open.allows(from: Self.impostor.address, to: Self.db.address, port: 5432))
    }

    @Test func defaultDenyIsolatesEveryPodOfItsNamespaceOnly() throws {
        let closed = try Self.enforce(Self.denyAll)
        #expect(!closed.allows(from: Self.web.address, to: Self.api.address, port: 8080))
        #expect(!closed.allows(from: Self.prometheus.address, to: Self.api.address, port: 8080))
        #expect(!closed.allows(from: Self.web.address, to: Self.prometheus.address, port: 9090))
        // Pods of another namespace are not isolated by micro's policies.
        #expect(closed.allows(from: Self.prometheus.address, to: Self.impostor.address, port: 80))
    }

    @Test func namedPortsAreEachDestinationPodsOwn() throws {
        let yaml =
            Self.denyAll + """

                ---
                kind: NetworkPolicy
                metadata: {name: api, namespace: micro}
                spec:
                  podSelector: {matchLabels: {app: api}}
                  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: main}]}]
                ---
                kind: NetworkPolicy
                metadata: {name: web, namespace: micro}
                spec:
                  podSelector: {matchLabels: {app: web}}
                  policyTypes: [Egress]
                  egress: [{to: [{podSelector: {matchExpressions: [{key: tier, operator: In, values: [back]}]}}], ports: [{port: main}]}]
                """
        let rules = try Self.enforce(yaml)
        #expect(rules.allows(from: Self.web.address, to: Self.api.address, port: 8080))
        #expect(rules.allows(from: Self.web.address, to: Self.api2.address, port: 8090))
        // 8090 is api2's main, not api's; 9080 is a port of api, not the one named main.
        #expect(!rules.allows(from: Self.web.address, to: Self.api.address, port: 8090))
        #expect(!rules.allows(from: Self.web.address, to: Self.api.address, port: 9080))
        // UDP is not TCP.
        #expect(!rules.allows(from: Self.web.address, to: Self.api.address, port: 8080, transport: .udp))
        // A selector without namespaceSelector: the policy's namespace only, whatever the labels.
        #expect(!rules.allows(from: Self.impostor.address, to: Self.api.address, port: 8080))
        // One side is not enough: db admits nobody.
        #expect(!rules.permits(.egress, from: Self.web.address, to: Self.db.address, port: 5432, transport: .tcp))
    }

    @Test func namespaceSelectorsMatchTheNameLabelAndTheNamespacesLabels() throws {
        let yaml =
            Self.denyAll + """

                ---
                kind: NetworkPolicy
                metadata: {name: scrape, namespace: micro}
                spec:
                  podSelector: {}
                  ingress:
                    - from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: monitoring}}}]
                      ports: [{protocol: TCP, port: metrics}]
                    - from: [{namespaceSelector: {matchExpressions: [{key: team, operator: NotIn, values: [blue]}, {key: team, operator: Exists}]}, podSelector: {matchLabels: {app: web}}}]
                """
        let rules = try Self.enforce(yaml, namespaces: ["other": ["team": "red"]])
        #expect(rules.allows(from: Self.prometheus.address, to: Self.api.address, port: 9080))
        #expect(!rules.allows(from: Self.prometheus.address, to: Self.api.address, port: 8080))
        #expect(!rules.allows(from: Self.prometheus.address, to: Self.db.address, port: 5432), "db has no port named metrics")
        // No ports: every port; the namespace must be team red-ish and the pod labelled web.
        #expect(rules.allows(from: Self.impostor.address, to: Self.db.address, port: 5432))
        let blue = try Self.enforce(yaml, namespaces: ["other": ["team": "blue"]])
        #expect(!blue.allows(from: Self.impostor.address, to: Self.db.address, port: 5432))
        #expect(!(try Self.enforce(yaml)).allows(from: Self.impostor.address, to: Self.db.address, port: 5432), "DoesNotExist team")
    }

    @Test func policyTypesDefaultAsKubernetesDoesAndRulesOfOtherTypesAreIgnored() throws {
        let implied = try Self.policies(
            """
            kind: NetworkPolicy
            metadata: {name: x}
            spec: {podSelector: {}, egress: [{}]}
            """)
        #expect(implied.first?.policyTypes == [.ingress, .egress])
        #expect(try Self.policies("kind: NetworkPolicy\nmetadata: {name: x}\nspec: {podSelector: {}}\n").first?.policyTypes == [.ingress])
        // Egress rules of an Ingress-only policy do nothing; an empty rule allows everything.
        let rules = try Self.enforce(
            """
            kind: NetworkPolicy
            metadata: {name: x}
            spec: {podSelector: {matchLabels: {app: db}}, policyTypes: [Ingress], ingress: [{}], egress: [{to: [{podSelector: {}}]}]}
            """)
        #expect(rules.isolated(.egress).isEmpty)
        #expect(rules.allows(from: Self.impostor.address, to: Self.db.address, port: 1))
    }

    @Test func ipBlocksWithExceptionsAndPortRanges() throws {
        let rules = try Self.enforce(
            Self.denyAll + """

                ---
                kind: NetworkPolicy
                metadata: {name: db}
                spec:
                  podSelector: {matchLabels: {app: db}}
                  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.0.2/31]}}], ports: [{port: 5000, endPort: 5500}, {protocol: UDP}]}]
                """)
        #expect(rules.permits(.ingress, from: Self.web.address, to: Self.db.address, port: 5432, transport: .tcp))
        #expect(rules.permits(.ingress, from: Self.web.address, to: Self.db.address, port: 53, transport: .udp))
        #expect(!rules.permits(.ingress, from: Self.web.address, to: Self.db.address, port: 5501, transport: .tcp))
        #expect(!rules.permits(.ingress, from: Self.api.address, to: Self.db.address, port: 5432, transport: .tcp))
        #expect(!rules.permits(.ingress, from: Self.api2.address, to: Self.db.address, port: 5432, transport: .tcp))
        #expect(!rules.permits(.ingress, from: Self.prometheus.address, to: Self.db.address, port: 5432, transport: .tcp))
    }

    /// A field the rehearsal does not enforce stops the apply, naming it: never silently allowed.
    @Test(arguments: [
        ("spec: {podSelector: {}, egress: [{to: [{serviceAccountSelector: {}}]}]}", "spec.egress[0].to[0].serviceAccountSelector"),
        ("spec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 'fd00::/8'}}]}]}", "fd00::/8"),
        ("spec: {podSelector: {}, ingress: [{ports: [{protocol: SCTP, port: 9}]}]}", "SCTP"),
        ("spec: {podSelector: {}, ingress: [{ports: [{port: http, endPort: 90}]}]}", "endPort"),
        ("spec: {podSelector: {matchExpressions: [{key: a, operator: Near}]}}", "operator Near"),
        ("spec: {podSelector: {matchFields: {a: b}}}", "podSelector.matchFields"),
        ("spec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]}", "ipBlock cannot be combined"),
        ("spec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [11.0.0.0/8]}}]}]}", "not inside"),
        ("spec: {podSelector: {}, policyTypes: [Sideways]}", "Sideways"),
        ("spec: {ingress: []}", "podSelector is missing"),
        ("spec: {podSelector: {}}\nstatus: {}", "NetworkPolicy/x.status"),
    ])
    func unimplementedFieldsAreRefused(spec: String, named: String) {
        do {
            _ = try Self.policies("kind: NetworkPolicy\nmetadata: {name: x}\n" + spec)
            Issue.record("accepted: \(spec)")
        } catch {
            #expect("\(error)".contains(named), "\(error)")
        }
    }

    /// The table for the rendered local overlay, with a pod for each workload, parses in nft (a
    /// check, not applied): the sets, concatenations and intervals PolicyRuleset writes.
    @Test func theRulesetOfTheLocalOverlayIsValidNft() async throws {
        let manifest = try await ManifestTests.local()
        var pods = manifest.workloads.enumerated().map { index, workload in
            PolicyPod(
                name: workload.name, namespace: "micro", labels: workload.template.labels, address: "10.213.0.\(index + 10)",
                ports: workload.template.containers.flatMap(\.ports))
        }
        pods.append(.clusterDNS(address: "10.213.0.2"))
        let extra = try Self.policies(
            """
            kind: NetworkPolicy
            metadata: {name: ranges, namespace: micro}
            spec:
              podSelector: {}
              ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}], ports: [{port: 8000, endPort: 8100}, {port: 8080}, {port: 8101}, {protocol: UDP}]}]
            """)
        let enforcement = PolicyEnforcement(
            policies: manifest.networkPolicies + extra, pods: pods, namespaceLabels: [:], defaultNamespace: "micro")
        let text = PolicyRuleset.ruleset(enforcement, plan: NetworkPlan(prefix: "mrcheck-"))
        #expect(text.contains("tcp . 8000-8101"), "ranges that touch are merged:\n\(text)")
        let file = TestPaths.temporaryDirectory(prefix: "nft") + "/policies.nft"
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        let check = try await Command.run(["nft", "-c", "-f", file])
        #expect(check.succeeded, "nft -c:\n\(check.output)\n\(text)")
    }
}
