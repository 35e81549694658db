import Discovery
import Foundation
import TestSupport
import Testing

/// The service table in code (`MicroService.all`) is the one source of truth for names, ports and
/// port names; every file that ships the system repeats them. These tests fail when any copy
/// drifts: fuge/fuge.yml, the Dockerfiles' EXPOSE, the rendered Kubernetes objects of every
/// overlay, docker-compose.yml with its DNS zone, and the images docker/build.sh builds.
@Suite("Shipping files agree with the service table")
struct ShippingConsistencyTests {
    static let overlays = ["local", "cloud"]

    /// Each overlay rendered once per test run (`kubectl kustomize` takes a moment).
    static let rendered = Task { () -> [String: Result<RenderedManifests, any Error>] in
        var rendered: [String: Result<RenderedManifests, any Error>] = [:]
        for overlay in overlays {
            do {
                let yaml = try await Repository.kustomize(overlay: overlay)
                rendered[overlay] = Result { try RenderedManifests(yaml: yaml, source: "overlays/\(overlay)") }
            } catch {
                rendered[overlay] = .failure(error)
            }
        }
        return rendered
    }

    static func manifests(_ overlay: String) async throws -> RenderedManifests {
        guard let result = await rendered.value[overlay] else { throw TestSupportError("no overlay \(overlay)") }
        return try result.get()
    }

    /// The rows built from this package: everything but the databases.
    static let builtServices: [MicroService] = [.adderservice, .auditservice, .eventservice, .webapp, .report]
    static let tableNames = Set(MicroService.all.map(\.name))
    /// What watches the table's services: Prometheus, locally (fuge.yml) and in the cluster
    /// (deployment/components/monitoring), from its upstream image.
    static let monitoringNames: Set = ["prometheus"]
    static let builtNames = Set(Self.builtServices.map(\.name))

    @Test("no two ports of the table are the same: the local environment runs every service on one host")
    func portsAreDistinct() {
        let ports = MicroService.all.flatMap(\.ports).map(\.number)
        #expect(Set(ports).count == ports.count, "\(ports.sorted())")
        #expect(MicroService.all.allSatisfy { $0.metricsPort == nil || $0.ports.last?.name == MicroService.metricsPortName })
    }

    // MARK: fuge

    /// The table's ports of `service` (its own, then its admin port), as the files declare them.
    static func declared(_ service: MicroService) -> [DeclaredPort] {
        service.ports.map { DeclaredPort(name: $0.name, number: $0.number) }
    }

    @Test("fuge/fuge.yml gives each service the table's port names and numbers", arguments: MicroService.all)
    func fugePorts(service: MicroService) throws {
        let fuge = try FugeFile(yaml: Repository.text("fuge/fuge.yml"))
        #expect(fuge.services[service.name, default: []] == Self.declared(service), "fuge.yml \(service)")
    }

    @Test("fuge/fuge.yml names only services of the table (and the Prometheus watching them), with the discovery defaults")
    func fugeGlobals() throws {
        let fuge = try FugeFile(yaml: Repository.text("fuge/fuge.yml"))
        #expect(Set(fuge.services.keys).subtracting(Self.tableNames) == Self.monitoringNames, "fuge.yml services not in the table")
        let defaults = DiscoveryConfig()
        #expect(fuge.global["dns_enabled"] as? Bool == true)
        #expect(fuge.global["dns_namespace"] as? String == defaults.namespace)
        #expect(fuge.global["dns_suffix"] as? String == defaults.suffix)
        #expect(fuge.global["dns_port"] as? Int == DiscoveryConfig.defaultDNSPort)
    }

    // MARK: Dockerfiles and build.sh

    @Test("docker/Dockerfile builds each product and its image exposes the table's ports", arguments: builtServices)
    func dockerfile(service: MicroService) throws {
        let text = try Repository.text("docker/Dockerfile")
        let stage = try #require(Dockerfile.stage(named: service.name, in: text), "docker/Dockerfile has no stage \(service)")
        #expect(try Dockerfile.exposedPorts(stage) == service.ports.map(\.number), "docker/Dockerfile \(service) EXPOSE")
        let words = text.split(whereSeparator: \.isWhitespace)
        #expect(
            zip(words, words.dropFirst()).contains { $0 == "--product" && $1 == service.name },
            "docker/Dockerfile does not build \(service)")
        #expect(stage.contains("ENTRYPOINT [\"/app/\(service.name)\"]"), "docker/Dockerfile \(service) runs another executable")
    }

    @Test("docker/build.sh builds an image for every service built from this package, and no other")
    func buildScriptImages() async throws {
        let images = try await Repository.imagesBuildScriptBuilds()
        #expect(Set(images.map(Self.imageName)) == Self.builtNames)
        let dockerfile = try Repository.text("docker/Dockerfile")
        for name in Self.builtNames {
            #expect(Dockerfile.stage(named: name, in: dockerfile) != nil, "docker/Dockerfile has no stage \(name)")
        }
    }

    // MARK: Kubernetes

    @Test("overlays tested are the overlays in deployment/overlays")
    func overlayList() throws {
        let folders = try FileManager.default.contentsOfDirectory(atPath: Repository.root + "/deployment/overlays")
        #expect(Set(folders) == Set(Self.overlays))
    }

    @Test("the rendered workload and Service carry the table's port names and numbers", arguments: overlays, MicroService.all)
    func kubernetesPorts(overlay: String, service: MicroService) async throws {
        let manifests = try await Self.manifests(overlay)
        let workload = try #require(manifests.workload(named: service.name), "\(overlay): no workload \(service)")
        let container = try #require(workload.containers.first { $0.name == service.name }, "\(overlay): no container \(service)")
        guard !service.ports.isEmpty else {
            #expect(workload.kind == "Job", "\(overlay): \(service) runs as a Job")
            #expect(container.ports.isEmpty)
            #expect(manifests.service(named: service.name) == nil, "\(overlay): \(service) has no port, so no Service")
            return
        }
        #expect(container.ports == Self.declared(service), "\(overlay) \(workload.kind)/\(service)")
        let kubernetesService = try #require(manifests.service(named: service.name), "\(overlay): no Service \(service)")
        // Service port = container port: the service listens on the <SERVICE>_SERVICE_PORT(_METRICS) it is given.
        #expect(kubernetesService.ports.map(\.name) == service.ports.map(\.name), "\(overlay) Service/\(service) port names")
        #expect(kubernetesService.ports.map(\.port) == service.ports.map(\.number), "\(overlay) Service/\(service) ports")
        for (port, table) in zip(kubernetesService.ports, service.ports) {
            #expect([table.name, String(table.number)].contains(port.targetPort), "\(overlay) Service/\(service) targetPort of \(table)")
        }
        #expect(kubernetesService.type == "ClusterIP", "\(overlay) Service/\(service) is reachable from outside the cluster")
        #expect(
            !kubernetesService.selector.isEmpty && kubernetesService.selector.allSatisfy { workload.podLabels[$0.key] == $0.value },
            "\(overlay) Service/\(service) selects its pods")
    }

    @Test(
        "our services probe /readyz and /healthz and are scraped on their admin port, and use the cluster DNS", arguments: overlays,
        Self.builtServices)
    func kubernetesRuntime(overlay: String, service: MicroService) async throws {
        let workload = try #require(try await Self.manifests(overlay).workload(named: service.name))
        let container = try #require(workload.containers.first)
        #expect(container.environment["DNS_NAMESPACE"] == "micro", "\(overlay) \(service)")
        #expect(container.environment["DNS_HOST"] == nil, "\(overlay) \(service): in the cluster the system resolver answers")
        if let metricsPort = service.metricsPort {
            #expect(container.readiness == "/readyz@\(MicroService.metricsPortName)", "\(overlay) \(service) readiness")
            #expect(container.liveness == "/healthz@\(MicroService.metricsPortName)", "\(overlay) \(service) liveness")
            #expect(workload.podAnnotations["prometheus.io/port"] == String(metricsPort), "\(overlay) \(service) scrape port")
            #expect(workload.podAnnotations["prometheus.io/path"] == "/metrics", "\(overlay) \(service) scrape path")
        }
    }

    /// What a LoadBalancer or NodePort exposes is every port of its Service: the only such
    /// Service is the webapp's page port alone, never an admin port.
    @Test("from outside the cluster only the webapp's page port is reachable", arguments: overlays)
    func externalExposure(overlay: String) async throws {
        let manifests = try await Self.manifests(overlay)
        let exposed = manifests.services.filter { $0.type != "ClusterIP" }
        try #require(exposed.count == 1, "\(overlay): Services reachable from outside: \(exposed.map(\.name))")
        let service = exposed[0]
        #expect(service.type == (overlay == "local" ? "NodePort" : "LoadBalancer"), "\(overlay) \(service.name)")
        let webapp = MicroService.webapp
        #expect(service.ports.map(\.name) == [webapp.portName], "\(overlay) \(service.name) ports")
        #expect(service.ports.map(\.targetPort).allSatisfy { [webapp.portName, String(webapp.port ?? 0)].contains($0) })
        let pods = try #require(manifests.workload(named: webapp.name)).podLabels
        #expect(
            !service.selector.isEmpty && service.selector.allSatisfy { pods[$0.key] == $0.value },
            "\(overlay) \(service.name) selects the webapp")
    }

    @Test("every image the manifests reference is one docker/build.sh builds (or the database's or Prometheus's own)", arguments: overlays)
    func kubernetesImages(overlay: String) async throws {
        let manifests = try await Self.manifests(overlay)
        let built = try await Repository.imagesBuildScriptBuilds()
        var deployed: Set<String> = []
        for workload in manifests.workloads {
            for container in workload.containers {
                let name = Self.imageName(container.image)
                if Self.builtNames.contains(name) {
                    deployed.insert(name)
                    // The local cluster pulls from the registry build.sh pushes to by default.
                    if overlay == "local" { #expect(built.contains(Self.repository(container.image)), "\(container.image)") }
                } else {
                    #expect(
                        Self.tableNames.union(Self.monitoringNames).contains(name) && workload.name == name,
                        "\(overlay) \(workload.kind)/\(workload.name): image \(container.image) is not built by docker/build.sh")
                }
            }
        }
        #expect(deployed == Self.builtNames, "\(overlay): images built but never deployed")
    }

    // MARK: docker-compose and its DNS zone

    @Test("docker-compose.yml and its DNS zone carry the table's ports and SRV names", arguments: MicroService.all)
    func compose(service: MicroService) throws {
        let compose = try ComposeFile(yaml: Repository.text("docker/docker-compose.yml"))
        let zone = try ZoneFile(text: Repository.text("docker/dns/micro.db"))
        let entry = try #require(compose.services[service.name], "docker-compose.yml has no \(service)")
        #expect(entry.containerPorts.sorted() == service.ports.map(\.number).sorted(), "docker-compose.yml \(service) ports")
        // On the host: the webapp's pages only.
        #expect(entry.publishedPorts == (service == .webapp ? [service.port ?? 0] : []), "docker-compose.yml \(service) published ports")
        let names = Set(zone.srv.keys.filter { $0.hasSuffix("._tcp.\(service.name)") })
        #expect(names == Set(service.ports.map { "_\($0.name)._tcp.\(service.name)" }), "micro.db SRV names of \(service)")
        for port in service.ports {
            let srvName = "_\(port.name)._tcp.\(service.name)"
            #expect(zone.srv[srvName] == [ZoneFile.SRV(port: port.number, target: service.name)], "micro.db \(srvName)")
        }
        guard !service.ports.isEmpty else { return }
        let address = try #require(entry.address, "docker-compose.yml: \(service) needs the fixed address its A record gives")
        #expect(zone.addresses[service.name] == [address], "micro.db A record of \(service)")
    }

    @Test("compose services find each other through the DNS container", arguments: builtServices)
    func composeDiscovery(service: MicroService) async throws {
        let compose = try ComposeFile(yaml: Repository.text("docker/docker-compose.yml"))
        let namedConf = try Repository.text("docker/dns/named.conf")
        let entry = try #require(compose.services[service.name])
        let dns = try #require(compose.services["dns"]?.address, "docker-compose.yml: dns needs a fixed address")
        #expect(entry.environment["DNS_HOST"] == dns, "\(service) DNS_HOST")
        let dnsPort = try #require(entry.environment["DNS_PORT"], "\(service) DNS_PORT")
        #expect(namedConf.contains("listen-on port \(dnsPort) "), "the DNS container does not listen on DNS_PORT \(dnsPort)")
        #expect(entry.environment["DNS_NAMESPACE"] == "micro")
        let defaultRegistry = try Self.repository(#require(await Repository.imagesBuildScriptBuilds().first)).split(separator: "/")
            .dropLast().joined(separator: "/")
        #expect(entry.image == "${REGISTRY:-\(defaultRegistry)}/\(service.name):${TAG:-latest}", "docker-compose.yml \(service) image")
    }

    @Test("the compose DNS zone is the one the services' default namespace and suffix name")
    func zoneOrigin() throws {
        let zone = try ZoneFile(text: Repository.text("docker/dns/micro.db"))
        let defaults = DiscoveryConfig()
        let domain = "\(defaults.namespace).\(defaults.suffix)"
        #expect(zone.origin == domain + ".", "micro.db $ORIGIN")
        #expect(try Repository.text("docker/dns/named.conf").contains("zone \"\(domain)\""), "named.conf serves another zone")
        // What a service asks for is the SRV name under that zone (DiscoveryConfig.srvName).
        #expect(defaults.srvName(.webapp) == "_http._tcp.webapp." + domain)
    }

    @Test("docker-compose.yml runs only services of the table, and the DNS server")
    func composeNames() throws {
        let compose = try ComposeFile(yaml: Repository.text("docker/docker-compose.yml"))
        #expect(Set(compose.services.keys).subtracting(Self.tableNames) == ["dns"])
    }

    // MARK: image names

    /// `localhost:5000/adderservice:abc123` → `localhost:5000/adderservice`
    static func repository(_ image: String) -> String {
        let lastSlash = image.lastIndex(of: "/").map { image.index(after: $0) } ?? image.startIndex
        guard let colon = image[lastSlash...].firstIndex(of: ":") else { return image }
        return String(image[..<colon])
    }

    /// `localhost:5000/adderservice:abc123` → `adderservice`
    static func imageName(_ image: String) -> String {
        String(repository(image).split(separator: "/").last ?? "")
    }
}
