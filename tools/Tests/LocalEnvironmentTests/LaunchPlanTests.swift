import Foundation
import LocalEnvironment
import TestSupport
import Testing

/// What the launcher will start, worked out before it starts anything.
@Suite struct LaunchPlanTests {
    /// A project whose services are shell scripts, so no build is needed.
    func project() throws -> ScratchProject {
        try ScratchProject(
            fuge: ScratchProject.fuge("""
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
        let plan = try LaunchPlan.make(options: LaunchOptions(
            fugePath: project.fugePath, dnsPort: 15353, portOverrides: ["webapp": 13000], environment: ["PATH": path]
        ))
        let webapp = try #require(plan.components.first { $0.name == "webapp" })
        #expect(webapp.environment["WEBAPP_SERVICE_PORT"] == "13000")
        #expect(webapp.environment["DNS_HOST"] == "127.0.0.1" && webapp.environment["DNS_PORT"] == "15353")
        #expect(webapp.environment["DNS_NAMESPACE"] == "micro" && webapp.environment["DNS_SUFFIX"] == "svc.cluster.local")
        #expect(webapp.readiness == .http(port: 13000, path: "/readyz"))
        #expect(webapp.workingDirectory == project.root)
        let adder = try #require(plan.components.first { $0.name == "adderservice" })
        #expect(adder.executable == project.root + "/bin/adderservice" && adder.arguments == ["--verbose"])
    }

    @Test func containersBecomeLocalServersWithDataUnderTheStateFolder() throws {
        let project = try project()
        let plan = try LaunchPlan.make(options: LaunchOptions(
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
        let plan = try LaunchPlan.make(options: LaunchOptions(
            fugePath: project.fugePath, portOverrides: ["redis": 16379], only: ["redis"], environment: [:]
        ))
        let records = try #require(plan.records)
        #expect(records.services.map(\.name) == [
            "_main._tcp.adderservice.micro.svc.cluster.local", "_http._tcp.webapp.micro.svc.cluster.local",
            "_main._tcp.mongo.micro.svc.cluster.local", "_main._tcp.redis.micro.svc.cluster.local",
        ])
        #expect(records.services.map(\.port) == [8080, 3000, 27017, 16379])
        #expect(plan.components.map(\.name) == ["dns", "redis"], "--only starts DNS and the named entries")
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
    }
}
