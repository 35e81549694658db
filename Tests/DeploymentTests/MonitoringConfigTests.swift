import Discovery
import Foundation
import TestSupport
import Testing
import Yams

/// Prometheus's two configurations against the manifests and the service table: the cluster's
/// (deployment/components/monitoring/prometheus.yml, kubernetes_sd_configs) run by promtool on
/// the pods the rendered cloud overlay would make, the local one (fuge/prometheus.yml, DNS SRV)
/// naming the port each Service's scrape annotation names, and the rules watching every service.
@Suite("Prometheus's configuration agrees with the manifests")
struct MonitoringConfigTests {
    static let component = "deployment/components/monitoring"
    /// The services Prometheus scrapes: ours that have an admin port.
    static let scraped = ShippingConsistencyTests.builtServices.filter { $0.metricsPort != nil }

    /// The rendered cloud overlay (the one that uses the monitoring component), once per run.
    static let rendered = Task { try await Repository.kustomize(overlay: "cloud") }

    /// Its objects.
    static func objects() async throws -> [[String: Any]] {
        try YAMLValue.documents(await rendered.value, source: "overlays/cloud")
    }

    // MARK: the cluster

    /// Debian's Prometheus is built without kubernetes_sd_configs, so the cluster's job is run
    /// with the targets that discovery would hand it instead: for every pod of namespace micro,
    /// one per declared container port (`<pod IP>:<port>`) or one per container without ports,
    /// carrying the pod's labels and annotations as `__meta_kubernetes_*` labels. What promtool
    /// reports after relabelling is what Prometheus would scrape.
    @Test("the cluster's Prometheus scrapes each service's pod once, on the port and path its annotations name")
    func clusterDiscovery() async throws {
        // Each pod also gets a port more than it declares: still one target per pod.
        let pods = try await Self.objects().filter(SimulatedPod.isWorkload).enumerated().map { index, object in
            try SimulatedPod(object, address: "10.0.0.\(index + 1)", extraPort: 9999)
        }
        try #require(!pods.isEmpty, "no workloads in namespace micro")
        let targets = try await Self.discover(pods)
        // Role pod lists one target per declared port; the scraped pods' all survive relabelling.
        let scrapedPorts = pods.filter { pod in Self.scraped.contains { $0.name == pod.name } }
            .flatMap(\.containers).map { max(1, $0.ports.count) }.reduce(0, +)
        #expect(targets.filter { !$0.isEmpty }.count == scrapedPorts, "\(targets)")
        var seen: [String: [String: String]] = [:]
        for labels in targets where !labels.isEmpty {
            let service = try #require(labels["service"], "a target without a service label: \(labels)")
            if let first = seen[service] {
                // Every port of a pod is moved to the annotated one; Prometheus keeps one of equal targets.
                #expect(first == labels, "\(service): two different targets \(first) and \(labels)")
            }
            seen[service] = labels
        }
        #expect(Set(seen.keys) == Set(Self.scraped.map(\.name)), "scraped: \(seen.keys.sorted())")
        for pod in pods {
            guard let labels = seen[pod.name] else { continue }
            let port = try #require(pod.annotations["prometheus.io/port"])
            #expect(labels["__address__"] == "\(pod.address):\(port)", "\(pod.name)")
            let admin = try #require(Self.scraped.first { $0.name == pod.name }?.metricsPort)
            #expect(port == String(admin), "\(pod.name) is scraped on its admin port")
            #expect(labels["__metrics_path__"] == pod.annotations["prometheus.io/path"], "\(pod.name)")
            #expect(labels["job"] == "micro" && labels["namespace"] == "micro" && labels["pod"] == pod.name + "-0")
        }
    }

    /// Writes the cluster's configuration with its discovery replaced by a file of `pods`, and
    /// returns the labels of each target `promtool check service-discovery` reports (empty: dropped).
    static func discover(_ pods: [SimulatedPod]) async throws -> [[String: String]] {
        let folder = TestPaths.temporaryDirectory(prefix: "prometheus-sd")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var config = try YAMLValue.mapping(Yams.load(yaml: Repository.text(component + "/prometheus.yml")), at: "prometheus.yml")
        config["rule_files"] = [Repository.root + "/" + component + "/rules/*.yml"]
        var jobs = try YAMLValue.sequence(config["scrape_configs"], at: "scrape_configs").map { try YAMLValue.mapping($0, at: "job") }
        let index = try #require(jobs.firstIndex { $0["job_name"] as? String == "micro" }, "no job micro")
        #expect(jobs[index]["kubernetes_sd_configs"] != nil, "the micro job no longer uses kubernetes_sd_configs")
        jobs[index]["kubernetes_sd_configs"] = nil
        jobs[index]["file_sd_configs"] = [["files": [folder + "/pods.json"]]]
        config["scrape_configs"] = jobs
        let groups = pods.flatMap(\.targetGroups)
        try JSONSerialization.data(withJSONObject: groups).write(to: URL(fileURLWithPath: folder + "/pods.json"))
        try Yams.dump(object: config).write(toFile: folder + "/prometheus.yml", atomically: true, encoding: .utf8)

        let promtool = try TestPaths.tool("promtool")
        let check = try await CommandResult.execute(promtool, ["check", "config", folder + "/prometheus.yml"])
        #expect(check.status == 0, "promtool check config:\n\(check.standardOutput)\(check.standardError)")
        let result = try await CommandResult.execute(
            promtool, ["check", "service-discovery", "--timeout=2s", folder + "/prometheus.yml", "micro"]
        )
        try #require(result.status == 0, "\(result.standardError)")
        let json = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8))
        let entries = try #require(json as? [[String: Any]], "\(result.standardOutput)")
        try #require(entries.count == groups.count, "promtool reported \(entries.count) of \(groups.count) targets")
        return entries.map { $0["labels"] as? [String: String] ?? [:] }
    }

    // MARK: the local environment

    @Test("fuge/prometheus.yml finds each service by the SRV name of the port its scrape annotation names")
    func localDiscovery() async throws {
        let config = try YAMLValue.mapping(Yams.load(yaml: Repository.text("fuge/prometheus.yml")), at: "fuge/prometheus.yml")
        let jobs = try YAMLValue.sequence(config["scrape_configs"], at: "scrape_configs").map { try YAMLValue.mapping($0, at: "job") }
        let job = try #require(jobs.first { $0["job_name"] as? String == "micro" }, "no job micro")
        let names = try YAMLValue.sequence(job["dns_sd_configs"], at: "dns_sd_configs").flatMap { entry in
            let fields = try YAMLValue.mapping(entry, at: "dns_sd_configs")
            #expect(fields["type"] as? String == "SRV")
            return try YAMLValue.sequence(fields["names"], at: "names").map { try YAMLValue.string($0, at: "name") }
        }
        let manifests = try await ShippingConsistencyTests.manifests("cloud")
        let defaults = DiscoveryConfig()
        var expected: [String] = []
        for service in Self.scraped {
            let workload = try #require(manifests.workload(named: service.name))
            let port = try #require(workload.podAnnotations["prometheus.io/port"].flatMap { Int($0) }, "\(service)")
            let named = try #require(
                manifests.service(named: service.name)?.ports.first { $0.port == port }?.name,
                "Service/\(service) has no named port \(port), the one its pods are scraped on")
            #expect(named == MicroService.metricsPortName, "\(service) is scraped on its port \(named)")
            expected.append("_\(named)._tcp.\(service.name).\(defaults.namespace).\(defaults.suffix)")
        }
        #expect(names.sorted() == expected.sorted())
        #expect(config["rule_files"] as? [String] == ["../\(Self.component)/rules/*.yml"], "the cluster's rules")
    }

    // MARK: the rules

    @Test("ServiceDown also fires for a scraped service that has no target at all")
    func serviceDownNamesEveryService() throws {
        let text = try Repository.text(Self.component + "/rules/micro.rules.yml")
        let rules = try YAMLValue.mapping(Yams.load(yaml: text), at: "rules")
        let all = try YAMLValue.sequence(rules["groups"], at: "groups").flatMap { group in
            try YAMLValue.sequence(YAMLValue.mapping(group, at: "group")["rules"], at: "rules").map {
                try YAMLValue.mapping($0, at: "rule")
            }
        }
        let rule = try #require(all.first { $0["alert"] as? String == "ServiceDown" })
        let expression = try YAMLValue.string(rule["expr"], at: "ServiceDown.expr")
        let absent = try Regex(#"absent\(up\{job="micro", service="([a-z]+)"\}\)"#)
        let named = expression.matches(of: absent).map { String($0.output[1].substring ?? "") }
        #expect(named.sorted() == Self.scraped.map(\.name).sorted())
    }

    @Test("the cluster's Prometheus reads its configuration and every rule file where the repository has them")
    func clusterMounts() async throws {
        let objects = try await Self.objects()
        let map = try #require(objects.first { $0["kind"] as? String == "ConfigMap" && Self.name(of: $0).hasPrefix("prometheus-") })
        let keys = Set(try YAMLValue.mapping(map["data"], at: "ConfigMap.data").keys)
        let rules = try FileManager.default.contentsOfDirectory(atPath: Repository.root + "/" + Self.component + "/rules")
        #expect(keys == Set(["prometheus.yml"] + rules))
        let set = try #require(objects.first { $0["kind"] as? String == "StatefulSet" && Self.name(of: $0) == "prometheus" })
        let spec = try YAMLValue.mapping(YAMLValue.mapping(set["spec"], at: "spec")["template"], at: "template")
        let pod = try YAMLValue.mapping(spec["spec"], at: "pod")
        let volume = try #require(
            try YAMLValue.sequence(pod["volumes"], at: "volumes").map { try YAMLValue.mapping($0, at: "volume") }
                .first { $0["name"] as? String == "config" })
        var paths: [String: String] = [:]
        for item in try YAMLValue.sequence(YAMLValue.mapping(volume["configMap"], at: "configMap")["items"], at: "items") {
            let fields = try YAMLValue.mapping(item, at: "item")
            paths[try YAMLValue.string(fields["key"], at: "key")] = try YAMLValue.string(fields["path"], at: "path")
        }
        #expect(paths == Dictionary(uniqueKeysWithValues: [("prometheus.yml", "prometheus.yml")] + rules.map { ($0, "rules/" + $0) }))
    }

    static func name(of object: [String: Any]) -> String {
        ((object["metadata"] as? [AnyHashable: Any])?["name"] as? String) ?? ""
    }
}

/// One pod of a rendered workload in namespace micro, as kubernetes_sd_configs (role pod) shows it.
struct SimulatedPod {
    let name: String
    let address: String
    let phase: String
    let labels: [String: String]
    let annotations: [String: String]
    /// Per container, its declared ports (name, number).
    let containers: [(name: String, ports: [(name: String?, number: Int)])]

    /// A Deployment, StatefulSet or Job of namespace micro.
    static func isWorkload(_ object: [String: Any]) -> Bool {
        let metadata = object["metadata"] as? [AnyHashable: Any]
        return ["Deployment", "StatefulSet", "Job"].contains(object["kind"] as? String ?? "")
            && metadata?["namespace"] as? String == "micro"
    }

    /// - Parameter extraPort: added to the first container's ports.
    init(_ object: [String: Any], address: String, extraPort: Int) throws {
        let metadata = try YAMLValue.mapping(object["metadata"], at: "metadata")
        let name = try YAMLValue.string(metadata["name"], at: "name")
        self.name = name
        let template = try YAMLValue.mapping(YAMLValue.mapping(object["spec"], at: "\(name).spec")["template"], at: "\(name).template")
        let podMetadata = try YAMLValue.mapping(template["metadata"], at: "\(name).template.metadata")
        self.address = address
        // A Job's pod ends; the others run.
        phase = object["kind"] as? String == "Job" ? "Succeeded" : "Running"
        labels = podMetadata["labels"] as? [String: String] ?? [:]
        annotations = podMetadata["annotations"] as? [String: String] ?? [:]
        let podSpec = try YAMLValue.mapping(template["spec"], at: "\(name).template.spec")
        containers = try YAMLValue.sequence(podSpec["containers"], at: "\(name).containers").enumerated().map { index, value in
            let container = try YAMLValue.mapping(value, at: "\(name).container")
            var ports = try YAMLValue.sequence(container["ports"], at: "\(name).ports").map { value in
                let port = try YAMLValue.mapping(value, at: "\(name).port")
                return (name: port["name"] as? String, number: try YAMLValue.integer(port["containerPort"], at: "\(name).containerPort"))
            }
            if index == 0 { ports.append((name: "extra", number: extraPort)) }
            return (try YAMLValue.string(container["name"], at: "\(name).container.name"), ports)
        }
    }

    /// file_sd target groups: one per container port, or per container without ports.
    var targetGroups: [[String: Any]] {
        var common = [
            "__meta_kubernetes_namespace": "micro",
            "__meta_kubernetes_pod_name": name + "-0",
            "__meta_kubernetes_pod_ip": address,
            "__meta_kubernetes_pod_phase": phase,
        ]
        for (key, value) in labels { common["__meta_kubernetes_pod_label_" + Self.sanitized(key)] = value }
        for (key, value) in annotations { common["__meta_kubernetes_pod_annotation_" + Self.sanitized(key)] = value }
        return containers.flatMap { container -> [[String: Any]] in
            var labels = common
            labels["__meta_kubernetes_pod_container_name"] = container.name
            guard !container.ports.isEmpty else { return [["targets": [address], "labels": labels]] }
            return container.ports.map { port in
                var labels = labels
                labels["__meta_kubernetes_pod_container_port_number"] = String(port.number)
                labels["__meta_kubernetes_pod_container_port_name"] = port.name ?? ""
                return ["targets": ["\(address):\(port.number)"], "labels": labels]
            }
        }
    }

    /// Kubernetes label and annotation names as Prometheus label names: `app.kubernetes.io/name`
    /// → `app_kubernetes_io_name`.
    static func sanitized(_ name: String) -> String {
        String(name.map { $0.isASCII && ($0.isLetter || $0.isNumber) ? $0 : "_" })
    }
}
