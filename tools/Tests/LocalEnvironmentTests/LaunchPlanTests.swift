import Foundation
import LocalEnvironment
import TestSupport
import Testing

/// What the launcher will start, worked out before it starts anything.
@Suite struct LaunchPlanTests {
    /// A project whose services are shell scripts, so no build is needed.
    func project() throws -> ScratchProject {
        try ScratchProject(
            fuge: ScratchProject.fuge(
                """
                adderservice:
                  type: process
                  path: ../
                  run: bin/adderservice --verbose
                  ports:
                    - main=8080
                webapp:
                  type: process
                  path: ../
                  run: bin/webapp
                  ports:
                    - http=3000
                    - metrics=4000
                mongo:
                  type: container
                  image: mongo
                  ports:
                    - main=27017
                redis:
                  type: container
                  image: docker.io/library/redis:7
                  ports:
                    - main=6379
                """),
            scripts: ["adderservice": "exit 0", "webapp": "exit 0"]
        )
    }

    /// PATH with the real project's tool folder, where `scripts/setup` put nx-27017.
    let path = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin") + ":" + TestPaths.packageRoot + "/.tools/venv/bin"

    @Test func servicesGetTheDNSAndPortVariablesAndRunFromTheProjectRoot() throws {
        let project = try project()
        let plan = try LaunchPlan.make(
            options: LaunchOptions(
                fugePath: project.fugePath, dnsPort: 15353, portOverrides: ["webapp": 13000, "webapp.metrics": 14000],
                environment: ["PATH": path]
            ))
        let webapp = try #require(plan.components.first { $0.name == "webapp" })
        // As Kubernetes names a Service's ports: the first, then each by its name.
        #expect(webapp.environment["WEBAPP_SERVICE_PORT"] == "13000")
        #expect(webapp.environment["WEBAPP_SERVICE_PORT_HTTP"] == "13000")
        #expect(webapp.environment["WEBAPP_SERVICE_PORT_METRICS"] == "14000")
        #expect(webapp.ports.map(\.port) == [13000, 14000])
        #expect(webapp.environment["DNS_HOST"] == "127.0.0.1" && webapp.environment["DNS_PORT"] == "15353")
        #expect(webapp.environment["DNS_NAMESPACE"] == "micro" && webapp.environment["DNS_SUFFIX"] == "svc.cluster.local")
        #expect(webapp.readiness == .http(port: 14000, path: "/readyz"), "readiness asks the admin port")
        let adder = try #require(plan.components.first { $0.name == "adderservice" })
        #expect(adder.readiness == .http(port: 8080, path: "/readyz"), "without an admin port, the first")
        #expect(webapp.workingDirectory == project.root)
        #expect(adder.executable == project.root + "/bin/adderservice" && adder.arguments == ["--verbose"])
    }

    @Test func containersBecomeLocalServersWithDataUnderTheStateFolder() throws {
        let project = try project()
        let plan = try LaunchPlan.make(
            options: LaunchOptions(
                fugePath: project.fugePath, stateDirectory: project.state, portOverrides: ["mongo": 17017],
                environment: ["PATH": path]
            ))
        let redis = try #require(plan.components.first { $0.name == "redis" })
        #expect(redis.executable.hasSuffix("/redis-server") && redis.arguments.starts(with: ["--port", "6379"]))
        let mongo = try #require(plan.components.first { $0.name == "mongo" })
        #expect(mongo.executable.hasSuffix("/mongod") || mongo.executable.hasSuffix("/nx-27017"))
        #expect(mongo.arguments.contains("17017") && mongo.arguments.contains(project.state + "/mongo"))
        #expect(plan.components.map(\.role) == [.dns, .database, .database, .service, .service])
    }

    @Test func dnsAnswersForEveryEntryWithTheOverriddenPorts() throws {
        let project = try project()
        let plan = try LaunchPlan.make(
            options: LaunchOptions(
                fugePath: project.fugePath, portOverrides: ["redis": 16379, "webapp.metrics": 14000], only: ["redis"], environment: [:]
            ))
        let records = try #require(plan.records)
        #expect(
            records.services.map(\.name) == [
                "_main._tcp.adderservice.micro.svc.cluster.local", "_http._tcp.webapp.micro.svc.cluster.local",
                "_metrics._tcp.webapp.micro.svc.cluster.local", "_main._tcp.mongo.micro.svc.cluster.local",
                "_main._tcp.redis.micro.svc.cluster.local",
            ])
        #expect(records.services.map(\.port) == [8080, 3000, 14000, 27017, 16379])
        #expect(plan.components.map(\.name) == ["dns", "redis"], "--only starts DNS and the named entries")
    }

    /// The project above with a Prometheus entry, and its configuration beside fuge.yml when `config`.
    func projectWithPrometheus(config: Bool = true) throws -> ScratchProject {
        let project = try project()
        let fuge = try String(contentsOfFile: project.fugePath, encoding: .utf8)
        try (fuge + "\nprometheus:\n  type: container\n  image: quay.io/prometheus/prometheus:v2.53.3\n  ports:\n    - http=9090\n")
            .write(toFile: project.fugePath, atomically: true, encoding: .utf8)
        if config { try "global: {}\n".write(toFile: project.root + "/fuge/prometheus.yml", atomically: true, encoding: .utf8) }
        return project
    }

    @Test func prometheusGetsTheLocalDNSAsItsSystemResolverOnAnAddressOfThisLauncher() throws {
        let project = try projectWithPrometheus()
        let plan = try LaunchPlan.make(
            options: LaunchOptions(
                fugePath: project.fugePath, stateDirectory: project.state, dnsPort: 15353,
                portOverrides: ["prometheus": 19090], environment: ["PATH": path], privileged: true
            ))
        // 15353 = 59 × 256 + 249
        let address = "127.53.59.249"
        let dns = try #require(plan.components.first { $0.name == "prometheus-dns" })
        #expect(dns.role == .dns && dns.executable.hasSuffix("/dnsmasq"))
        #expect(dns.arguments.contains("--listen-address=\(address)") && dns.arguments.contains("--port=53"))
        #expect(
            dns.arguments.contains("--srv-host=_main._tcp.adderservice.micro.svc.cluster.local,adderservice.micro.svc.cluster.local,8080"))
        #expect(dns.ports.map(\.description) == ["udp \(address):53 (prometheus-dns)", "tcp \(address):53 (prometheus-dns)"])

        let prometheus = try #require(plan.components.first { $0.name == "prometheus" })
        #expect(prometheus.role == .monitoring && prometheus.executable.hasSuffix("/unshare"))
        #expect(prometheus.arguments.starts(with: ["--mount", "--propagation", "private", "/bin/sh", "-c"]))
        #expect(prometheus.arguments.contains(address))
        #expect(prometheus.arguments.contains("--config.file=" + project.root + "/fuge/prometheus.yml"))
        #expect(prometheus.arguments.contains("--storage.tsdb.path=" + project.state + "/prometheus/data"))
        #expect(prometheus.arguments.contains("--web.listen-address=127.0.0.1:19090"))
        #expect(prometheus.readiness == .http(port: 19090, path: "/-/ready"))
        #expect(plan.components.map(\.role) == [.dns, .dns, .database, .database, .service, .service, .monitoring])
        #expect(plan.notes.isEmpty)
    }

    @Test func withoutRootPrometheusIsLeftOutAndTheLauncherSaysWhy() throws {
        let project = try projectWithPrometheus()
        let plan = try LaunchPlan.make(
            options: LaunchOptions(
                fugePath: project.fugePath, dnsPort: 15353, environment: ["PATH": path], privileged: false
            ))
        #expect(!plan.components.contains { $0.name.hasPrefix("prometheus") })
        #expect(
            plan.notes == [
                "prometheus is not started: it needs root, to give it the local DNS as its system resolver"
                    + " (a mount namespace, and port 53 on 127.53.59.249); run localenv as root to have it"
            ])
    }

    @Test func prometheusWithoutItsConfigurationIsRefused() throws {
        let project = try projectWithPrometheus(config: false)
        #expect {
            try LaunchPlan.make(options: LaunchOptions(fugePath: project.fugePath, environment: ["PATH": path], privileged: true))
        } throws: { error in
            "\(error)".contains("entry prometheus: \(project.root)/fuge/prometheus.yml is missing")
        }
    }

    @Test func aMissingBinaryIsNamedBeforeAnythingStarts() throws {
        let project = try project()
        #expect {
            try LaunchPlan.make(options: LaunchOptions(fugePath: project.fugePath, binDirectory: project.root + "/nowhere"))
        } throws: { error in
            "\(error)".contains("adderservice: \(project.root)/nowhere/adderservice is not built")
        }
    }

    @Test func anUnknownEntryInAnOverrideIsRefused() throws {
        let project = try project()
        #expect {
            try LaunchPlan.make(options: LaunchOptions(fugePath: project.fugePath, portOverrides: ["adder": 1]))
        } throws: { error in
            "\(error)".contains("fuge.yml has no entry adder")
        }
        #expect {
            try LaunchPlan.make(options: LaunchOptions(fugePath: project.fugePath, portOverrides: ["adderservice.metrics": 1]))
        } throws: { error in
            "\(error)".contains("entry adderservice has no port metrics")
        }
    }
}
