import ClusterRehearsal
import Foundation
import TestSupport
import Testing

/// The NetworkPolicies of both overlays against docs/design.md ("Network policies"): which pod
/// may open a connection to which port, computed from the rendered policies alone (the cluster
/// rehearsal's reading of them, which its nft rules enforce), must be the design's table.
@Suite("Network policies are the design's table")
struct NetworkPolicyMatrixTests {
    /// One row of the table: a destination port and who may connect to it.
    struct Path: Hashable, Comparable, CustomStringConvertible {
        var to: String
        var port: String
        var from: [String]

        static func < (left: Path, right: Path) -> Bool { (left.to, left.port) < (right.to, right.port) }
        var description: String { "| \(to) | \(port) | \(from.joined(separator: ", ")) |" }
    }

    /// A source of connections: micro's workloads by name, the pods of other namespaces as
    /// "namespace <name>", and an address outside the cluster.
    struct Source {
        var name: String
        var address: String
    }

    static let outside = Source(name: "outside the cluster", address: "192.0.2.10")
    /// What runs beside micro: a pod of the monitoring namespace, a pod of another namespace that
    /// carries the webapp's labels (a selector without namespaceSelector must not admit it), the
    /// cluster DNS.
    static let neighbours = [
        PolicyPod(
            name: "-", namespace: "monitoring", labels: [:], address: "10.99.1.1", ports: [ContainerPort(name: "http", number: 9090)]),
        PolicyPod(
            name: "-", namespace: "elsewhere", labels: ["app.kubernetes.io/name": "webapp"], address: "10.99.2.1",
            ports: [ContainerPort(name: "main", number: 8080)]
        ),
        PolicyPod.clusterDNS(address: "10.99.0.10"),
    ]

    /// The overlay's workloads as one pod each, beside the neighbours, and its policies resolved against them.
    static func cluster(_ overlay: String) async throws -> (pods: [PolicyPod], enforcement: PolicyEnforcement) {
        let manifest = try ClusterManifest(yaml: await Repository.kustomize(overlay: overlay))
        try #require(!manifest.networkPolicies.isEmpty, "overlays/\(overlay) has no NetworkPolicy")
        let pods =
            manifest.workloads.enumerated().map { index, workload in
                PolicyPod(
                    name: workload.name, namespace: workload.namespace ?? "micro", labels: workload.template.labels,
                    address: "10.98.0.\(index + 1)", ports: workload.template.containers.flatMap(\.ports)
                )
            } + neighbours
        let enforcement = PolicyEnforcement(
            policies: manifest.networkPolicies, pods: pods, namespaceLabels: manifest.namespaceLabels, defaultNamespace: "micro"
        )
        return (pods, enforcement)
    }

    static func sources(_ pods: [PolicyPod]) -> [Source] {
        pods.map { Source(name: $0.namespace == "micro" ? $0.name : "namespace \($0.namespace)", address: $0.address) } + [outside]
    }

    /// Every port of micro's pods, with the sources that may connect to it (a name standing for
    /// several pods only when all of them may), and of the cluster DNS, with the pods of micro that
    /// may (micro's policies do not speak for other namespaces' egress).
    static func matrix(_ pods: [PolicyPod], _ enforcement: PolicyEnforcement) -> Set<Path> {
        var paths: Set<Path> = []
        let micro = pods.filter { $0.namespace == "micro" }.map { Source(name: $0.name, address: $0.address) }
        for pod in pods where pod.namespace == "micro" || pod.name == "kube-dns" {
            let sources = pod.namespace == "micro" ? sources(pods) : micro
            for port in pod.ports {
                let allowed = Dictionary(grouping: sources, by: \.name).filter { _, members in
                    members.allSatisfy {
                        enforcement.allows(from: $0.address, to: pod.address, port: port.number, transport: port.transport)
                    }
                }
                guard !allowed.isEmpty else { continue }
                paths.insert(Path(to: pod.name, port: port.name ?? "\(port.number)", from: allowed.keys.sorted()))
            }
        }
        return paths
    }

    /// docs/design.md's table, its words read as the sets they name.
    static func designTable(sources: [Source], micro: [String]) throws -> Set<Path> {
        let text = try Repository.text("docs/design.md")
        let section = try #require(
            text.components(separatedBy: "## Network policies").dropFirst().first, "design.md has no section Network policies")
        let rows = section.split(separator: "\n").drop { !$0.hasPrefix("| to | port | from |") }.dropFirst(2).prefix { $0.hasPrefix("|") }
        try #require(!rows.isEmpty, "the section Network policies has no table | to | port | from |")
        return Set(
            try rows.map { row in
                let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
                try #require(cells.count == 3, "not a row of three cells: \(row)")
                var from: Set<String> = []
                for word in cells[2].components(separatedBy: ", ") {
                    switch word {
                    case "anywhere": from.formUnion(sources.map(\.name))
                    case "anywhere outside micro": from.formUnion(sources.map(\.name).filter { !micro.contains($0) })
                    case "every pod of micro": from.formUnion(micro)
                    default: from.insert(word)
                    }
                }
                let port = String(cells[1].split(separator: " ").first ?? "")
                return Path(to: String(cells[0].split(separator: " ").first ?? ""), port: port, from: from.sorted())
            })
    }

    @Test("the paths the policies open are the table of docs/design.md", arguments: ["local", "cloud"])
    func matrixIsTheDesignTable(overlay: String) async throws {
        let (pods, enforcement) = try await Self.cluster(overlay)
        let micro = pods.filter { $0.namespace == "micro" }.map(\.name)
        let computed = Self.matrix(pods, enforcement)
        let designed = try Self.designTable(sources: Self.sources(pods), micro: micro)
        let missing = designed.subtracting(computed).sorted(), extra = computed.subtracting(designed).sorted()
        #expect(
            missing.isEmpty && extra.isEmpty,
            """
            overlays/\(overlay): the policies differ from docs/design.md.
            the table has, the policies do not:\n\(missing.map(\.description).joined(separator: "\n"))
            the policies have, the table does not:\n\(extra.map(\.description).joined(separator: "\n"))
            """
        )
    }

    /// Both ways: an egress no ingress admits is a path that fails, an ingress no egress uses is
    /// one the table cannot show (the matrix needs both sides) that opens once the caller's
    /// egress widens.
    @Test("between pods of micro, each egress is admitted by an ingress and each ingress used by an egress", arguments: ["local", "cloud"])
    func everyEgressHasItsIngress(overlay: String) async throws {
        let (pods, enforcement) = try await Self.cluster(overlay)
        let micro = pods.filter { $0.namespace == "micro" }
        var opened = 0
        for source in micro {
            for destination in micro where destination.address != source.address {
                for port in destination.ports {
                    let out = enforcement.permits(
                        .egress, from: source.address, to: destination.address, port: port.number, transport: port.transport)
                    let into = enforcement.permits(
                        .ingress, from: source.address, to: destination.address, port: port.number, transport: port.transport)
                    #expect(
                        !out || into,
                        "\(source.name) may send to \(destination.name):\(port.name ?? "") but \(destination.name) does not admit it")
                    // A port open to everyone (the webapp's page port) admits micro's pods as well.
                    let open = enforcement.permits(
                        .ingress, from: Self.outside.address, to: destination.address, port: port.number, transport: port.transport)
                    #expect(
                        !into || out || open,
                        "\(destination.name) admits \(source.name) on \(port.name ?? "") but \(source.name) may not send there")
                    if out { opened += 1 }
                }
            }
        }
        #expect(opened > 0, "no egress between micro's pods at all")
    }

    @Test("no pod of micro reaches another namespace or outside the cluster, but the cluster DNS", arguments: ["local", "cloud"])
    func nothingLeavesButDNS(overlay: String) async throws {
        let (pods, enforcement) = try await Self.cluster(overlay)
        let elsewhere = pods.filter { $0.namespace != "micro" && $0.name != "kube-dns" }
        let targets =
            elsewhere.flatMap { pod in pod.ports.map { (pod.address, $0.number) } } + [
                (Self.outside.address, 443), (Self.outside.address, 53),
            ]
        for source in pods where source.namespace == "micro" {
            for (address, port) in targets {
                let reaches = enforcement.allows(from: source.address, to: address, port: port)
                #expect(!reaches, "\(source.name) reaches \(address):\(port)")
            }
        }
    }

    /// Prometheus scrapes `<pod address>:<prometheus.io/port>`: the policies must admit the
    /// monitoring namespace on that number, whatever the port's name.
    @Test("Prometheus may scrape every pod that asks to be scraped, on its annotated port", arguments: ["local", "cloud"])
    func prometheusReachesEveryScrapeTarget(overlay: String) async throws {
        let (pods, enforcement) = try await Self.cluster(overlay)
        let rendered = try RenderedManifests(yaml: await Repository.kustomize(overlay: overlay), source: "overlays/\(overlay)")
        let prometheus = try #require(Self.neighbours.first { $0.namespace == "monitoring" })
        var scraped = 0
        for workload in rendered.workloads where workload.podAnnotations["prometheus.io/scrape"] == "true" {
            let pod = try #require(pods.first { $0.name == workload.name && $0.namespace == "micro" })
            let port = try #require(
                workload.podAnnotations["prometheus.io/port"].flatMap { Int($0) }, "\(workload.name): no prometheus.io/port")
            let allowed = enforcement.allows(from: prometheus.address, to: pod.address, port: port)
            #expect(allowed, "\(workload.name): Prometheus may not reach port \(port)")
            scraped += 1
        }
        #expect(scraped == MonitoringConfigTests.scraped.count, "scraped workloads: \(scraped)")
    }
}
