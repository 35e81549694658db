import Testing

@testable import ClusterRehearsal

/// Kubernetes DNS records, the injected Service variables and the proxy rules, from the model.
@Suite struct RecordTests {
    static let adder = ServiceObject(
        name: "adderservice", kind: .headless, selector: ["app": "adder"],
        ports: [ServicePort(name: "main", port: 8080, targetPort: .name("main"))]
    )
    static let mongo = ServiceObject(
        name: "mongo", kind: .headless, selector: ["app": "mongo"],
        ports: [ServicePort(name: "main", port: 27017, targetPort: .name("main"))]
    )
    static let webapp = ServiceObject(
        name: "webapp", kind: .nodePort, selector: ["app": "webapp"],
        ports: [ServicePort(name: "http", port: 3000, targetPort: .name("http"), nodePort: 30080)]
    )
    static let states = Cluster.allocate([adder, mongo, webapp], plan: NetworkPlan())

    static func endpoint(_ pod: String, _ address: String, app: String, port: Int, statefulSet: String? = nil) -> Endpoint {
        Endpoint(
            pod: pod, address: address, labels: ["app": app], ports: [ContainerPort(name: app == "webapp" ? "http" : "main", number: port)],
            hostname: statefulSet == nil ? nil : pod, subdomain: statefulSet
        )
    }

    @Test func headlessServicesAnswerEveryReadyPod() {
        let records = ClusterRecords.make(
            services: Self.states,
            endpoints: [
                Self.endpoint("adder-a", "10.213.0.10", app: "adder", port: 8080),
                Self.endpoint("adder-b", "10.213.0.11", app: "adder", port: 8080),
            ])
        let srv = records.filter { $0.name == "_main._tcp.adderservice.micro.svc.cluster.local" }.map(\.data).sorted()
        #expect(
            srv == [
                "0 50 8080 10-213-0-10.adderservice.micro.svc.cluster.local.",
                "0 50 8080 10-213-0-11.adderservice.micro.svc.cluster.local.",
            ])
        #expect(records.contains(DNSRecord(name: "10-213-0-11.adderservice.micro.svc.cluster.local", type: "A", data: "10.213.0.11")))
        #expect(records.filter { $0.name == "adderservice.micro.svc.cluster.local" }.count == 2)
        // No ready mongo pod: no mongo names at all.
        #expect(!records.contains { $0.name.contains("mongo") })
    }

    @Test func statefulSetPodsAreNamedByHostname() {
        let records = ClusterRecords.make(
            services: Self.states,
            endpoints: [
                Self.endpoint("mongo-0", "10.213.0.12", app: "mongo", port: 27017, statefulSet: "mongo")
            ])
        #expect(
            records.contains(
                DNSRecord(
                    name: "_main._tcp.mongo.micro.svc.cluster.local", type: "SRV",
                    data: "0 100 27017 mongo-0.mongo.micro.svc.cluster.local.")))
        #expect(records.contains(DNSRecord(name: "mongo-0.mongo.micro.svc.cluster.local", type: "A", data: "10.213.0.12")))
    }

    @Test func clusterIPServicesAnswerTheirAddressWhateverTheEndpoints() {
        let records = ClusterRecords.make(services: Self.states, endpoints: [])
        let address = Self.states[2].clusterIP
        #expect(address == "10.214.0.10")
        #expect(
            records == [
                DNSRecord(name: "webapp.micro.svc.cluster.local", type: "A", data: "10.214.0.10"),
                DNSRecord(
                    name: "_http._tcp.webapp.micro.svc.cluster.local", type: "SRV", data: "0 100 3000 webapp.micro.svc.cluster.local."),
            ])
    }

    @Test func onlyServicesWithAClusterIPAreInjected() {
        let variables = ServiceEnvironment.variables(Self.states)
        #expect(variables["WEBAPP_SERVICE_HOST"] == "10.214.0.10")
        #expect(variables["WEBAPP_SERVICE_PORT"] == "3000")
        #expect(variables["WEBAPP_SERVICE_PORT_HTTP"] == "3000")
        #expect(variables["WEBAPP_PORT_3000_TCP_ADDR"] == "10.214.0.10")
        #expect(!variables.keys.contains { $0.hasPrefix("ADDERSERVICE_") || $0.hasPrefix("MONGO_") })
    }

    @Test func nodePortsAreAssignedWhenTheManifestHasNone() {
        var webapp = Self.webapp
        webapp.ports[0].nodePort = nil
        let states = Cluster.allocate([webapp], plan: NetworkPlan())
        #expect(states[0].nodePorts == [30000])
    }

    @Test func proxyRulesSpreadOverReadyEndpoints() {
        let rules = ServiceProxy.ruleset(
            Self.states,
            endpoints: [
                Self.endpoint("web-a", "10.213.0.20", app: "webapp", port: 3000),
                Self.endpoint("web-b", "10.213.0.21", app: "webapp", port: 3000),
            ], plan: NetworkPlan())
        #expect(rules.contains("ip daddr 10.214.0.10 tcp dport 3000 jump svc-webapp-3000"))
        #expect(rules.contains("ip daddr 10.213.0.1 tcp dport 30080 jump svc-webapp-3000"))
        #expect(rules.contains("numgen random mod 2 vmap { 0 : jump svc-webapp-3000-0, 1 : jump svc-webapp-3000-1 }"))
        #expect(rules.contains("dnat to 10.213.0.21:3000"))
        #expect(!rules.contains("adderservice"), "headless Services get no proxy rules")
    }
}
