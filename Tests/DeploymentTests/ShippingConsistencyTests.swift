import Discovery
import Foundation
import Testing
import TestSupport

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

    // MARK: fuge

    @Test("fuge/fuge.yml gives each service the table's port name and number", arguments: MicroService.all)
    func fugePorts(service: MicroService) throws {
        let fuge = try FugeFile(yaml: Repository.text("fuge/fuge.yml"))
        if let port = service.port {
            #expect(fuge.services[service.name] == [DeclaredPort(name: service.portName, number: port)], "fuge.yml \(service)")
        } else {
            #expect(fuge.services[service.name, default: []].isEmpty, "fuge.yml: \(service) has no port in the table")
        }
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

    @Test("docker/Dockerfile builds each product and its image exposes the table's port", arguments: builtServices)
    func dockerfile(service: MicroService) throws {
        let text = try Repository.text("docker/Dockerfile")
        let stage = try #require(Dockerfile.stage(named: service.name, in: text), "docker/Dockerfile has no stage \(service)")
        #expect(try Dockerfile.exposedPorts(stage) == (service.port.map { [$0] } ?? []), "docker/Dockerfile \(service) EXPOSE")
        let words = text.split(whereSeparator: \.isWhitespace)
        #expect(zip(words, words.dropFirst()).contains { $0 == "--product" && $1 == service.name }, "docker/Dockerfile does not build \(service)")
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

    @Test("the rendered workload and Service carry the table's port name and number", arguments: overlays, MicroService.all)
    func kubernetesPorts(overlay: String, service: MicroService) async throws {
        let manifests = try await Self.manifests(overlay)
        let workload = try #require(manifests.workload(named: service.name), "\(overlay): no workload \(service)")
        let container = try #require(workload.containers.first { $0.name == service.name }, "\(overlay): no container \(service)")
        guard let port = service.port else {
            #expect(workload.kind == "Job", "\(overlay): \(service) runs as a Job")
            #expect(container.ports.isEmpty)
            #expect(manifests.service(named: service.name) == nil, "\(overlay): \(service) has no port, so no Service")
            return
        }
        #expect(container.ports == [DeclaredPort(name: service.portName, number: port)], "\(overlay) \(workload.kind)/\(service)")
        let kubernetesService = try #require(manifests.service(named: service.name), "\(overlay): no Service \(service)")
        // Service port = container port: the service listens on the <SERVICE>_SERVICE_PORT it is given.
        #expect(kubernetesService.ports.map(\.name) == [service.portName], "\(overlay) Service/\(service) port name")
        #expect(kubernetesService.ports.map(\.port) == [port], "\(overlay) Service/\(service) port")
        #expect([service.portName, String(port)].contains(kubernetesService.ports.first?.targetPort ?? ""), "\(overlay) Service/\(service) targetPort")
        #expect(!kubernetesService.selector.isEmpty && kubernetesService.selector.allSatisfy { workload.podLabels[$0.key] == $0.value },
                "\(overlay) Service/\(service) selects its pods")
    }

    @Test("our services probe /readyz and /healthz, are scraped on their port, and use the cluster DNS", arguments: overlays, Self.builtServices)
    func kubernetesRuntime(overlay: String, service: MicroService) async throws {
        let workload = try #require(try await Self.manifests(overlay).workload(named: service.name))
        let container = try #require(workload.containers.first)
        #expect(container.environment["DNS_NAMESPACE"] == "micro", "\(overlay) \(service)")
        #expect(container.environment["DNS_HOST"] == nil, "\(overlay) \(service): in the cluster the system resolver answers")
        if service.port != nil {
            #expect(container.readiness == "/readyz@\(service.portName)", "\(overlay) \(service) readiness")
            #expect(container.liveness == "/healthz@\(service.portName)", "\(overlay) \(service) liveness")
            #expect(workload.podAnnotations["prometheus.io/port"] == service.port.map(String.init), "\(overlay) \(service) scrape port")
        }
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
                    #expect(Self.tableNames.union(Self.monitoringNames).contains(name) && workload.name == name,
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
        let srvName = "_\(service.portName)._tcp.\(service.name)"
        guard let port = service.port else {
            #expect(entry.containerPorts.isEmpty)
            #expect(zone.srv[srvName] == nil, "micro.db: \(service) has no port, so no SRV record")
            return
        }
        #expect(entry.containerPorts == [port], "docker-compose.yml \(service) ports")
        #expect(zone.srv[srvName] == [ZoneFile.SRV(port: port, target: service.name)], "micro.db \(srvName)")
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
        let defaultRegistry = try Self.repository(#require(await Repository.imagesBuildScriptBuilds().first)).split(separator: "/").dropLast().joined(separator: "/")
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
