import Discovery
import Foundation
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built launcher's own behaviour, with real dnsmasq, redis-server and child processes.
@Suite(.stopsServers) struct LauncherBehaviourTests {
    @Test func aTakenPortIsNamedAndNothingStarts() async throws {
        let held = try HeldPort()
        let project = try ScratchProject(
            fuge: ScratchProject.fuge(
                """
                marker:
                  type: process
                  path: ../
                  run: bin/marker
                  ports:
                    - main=\(Ports.free())
                redis:
                  type: container
                  image: redis
                  ports:
                    - main=\(held.port)
                """),
            scripts: ["marker": "touch started-marker; sleep 30"]
        )
        let run = try await LauncherRun(arguments: ["--fuge", project.fugePath, "--state", project.state])
        let status = await run.process.waitForExit(timeout: .seconds(30))
        #expect(status == 1, "\(run.log())")
        #expect(run.log().contains("port \(held.port) (tcp on 127.0.0.1) for redis is already in use"), "\(run.log())")
        #expect(!run.log().contains("started "), "\(run.log())")
        #expect(!FileManager.default.fileExists(atPath: project.root + "/started-marker"))
        #expect(!Ports.isListening(run.dnsPort), "DNS was not started")
    }

    @Test func aServiceThatExitsAtStartIsReportedAndGivenUpOn() async throws {
        let project = try ScratchProject(
            fuge: ScratchProject.fuge(
                """
                broken:
                  type: process
                  path: ../
                  run: bin/broken
                  ports:
                    - main=\(Ports.free())
                """),
            scripts: ["broken": "echo 'broken: invalid BROKEN_SETTING=\"x\": expected a number' >&2; exit 78"]
        )
        let run = try await LauncherRun(arguments: [
            "--fuge", project.fugePath, "--state", project.state, "--max-start-failures", "2",
        ])
        let status = await run.process.waitForExit(timeout: .seconds(30))
        let log = run.log()
        #expect(status == 1, "\(log)")
        #expect(log.contains("broken exited before it was ready: exit status 78 (1 of 2 tries)"), "\(log)")
        #expect(log.contains("giving up on broken: it exited 2 times in a row before becoming ready (last: exit status 78)"), "\(log)")
        #expect(log.contains("    broken: invalid BROKEN_SETTING=\"x\": expected a number"), "its last output is shown: \(log)")
        #expect(log.contains("\nbroken   | broken: invalid BROKEN_SETTING"), "its output has its name as an aligned prefix: \(log)")
        #expect(!Ports.isListening(run.dnsPort), "DNS was stopped")
    }

    @Test func aCrashedServiceIsReportedAndRestarted() async throws {
        let port = Ports.free(), metricsPort = Ports.free()
        let project = try ScratchProject(
            fuge: ScratchProject.fuge(
                """
                adderservice:
                  type: process
                  path: ../
                  run: .build/release/adderservice
                  ports:
                    - main=\(port)
                    - metrics=\(metricsPort)
                """))
        let folder = URL(fileURLWithPath: try TestPaths.builtExecutable("adderservice")).deletingLastPathComponent().path
        let run = try await LauncherRun(arguments: ["--fuge", project.fugePath, "--state", project.state, "--bin", folder])
        #expect(await run.waitFor("micro is up"), "\(run.log())")
        let first = try #require(run.startedPIDs().last { $0.name == "adderservice" })
        kill(first.pid, SIGKILL)
        #expect(await run.waitFor("adderservice is ready again"), "\(run.log())")
        #expect(run.log().contains("adderservice crashed: signal 9 (SIGKILL) after"), "\(run.log())")
        let second = try #require(run.startedPIDs().last { $0.name == "adderservice" })
        #expect(second.pid != first.pid)
        #expect(Ports.isListening(port))
        #expect(await run.terminate() == 0, "\(run.log())")
        #expect(await processEnds(second.pid) && !Ports.isListening(port) && !Ports.isListening(metricsPort))
    }

    /// Every port of every entry, the service table's names (an overridden first port, the
    /// admin ports as the table has them: only redis runs).
    @Test func dnsAnswersSRVAndAForEveryEntryOfFugeYml() async throws {
        let services = MicroService.all.filter { !$0.ports.isEmpty }
        let firstPorts = services.map { ($0.name, Ports.free()) }
        let run = try await LauncherRun(
            arguments: [
                "--fuge", TestPaths.packageRoot + "/fuge/fuge.yml", "--state", TestPaths.temporaryDirectory(prefix: "state"),
                "--only", "redis",
            ] + firstPorts.flatMap { ["--port", "\($0.0)=\($0.1)"] })
        #expect(await run.waitFor("micro is up"), "\(run.log())")
        var expected: [(service: String, port: String, number: Int)] = []
        for (service, (_, first)) in zip(services, firstPorts) {
            for (index, port) in service.ports.enumerated() { expected.append((service.name, port.name, index == 0 ? first : port.number)) }
        }
        for (name, portName, port) in expected {
            let target = "\(name).micro.svc.cluster.local"
            #expect(try await dig("SRV", "_\(portName)._tcp.\(target)", port: run.dnsPort) == ["0 0 \(port) \(target)."])
            #expect(try await dig("A", target, port: run.dnsPort) == ["127.0.0.1"])
        }
        #expect(expected.contains { $0.port == "metrics" && $0.service == "webapp" })
        #expect(try await dig("SRV", "_main._tcp.nothing.micro.svc.cluster.local", port: run.dnsPort).isEmpty)
        #expect(
            try await dig("SRV", "_main._tcp.eventservice.micro.svc.cluster.local", port: run.dnsPort).isEmpty,
            "the eventservice has no port of its own")
        // And as the services ask: Discovery's resolver, SRV then A.
        let resolver = ServiceResolver(config: DiscoveryConfig(mode: .direct(host: "127.0.0.1", port: run.dnsPort)))
        for (name, portName, port) in expected {
            let targets = try await resolver.resolve(service: name, port: portName)
            #expect(targets == [ServiceTarget(host: "127.0.0.1", port: port)], "\(name) \(portName)")
        }
        #expect(await run.terminate() == 0, "\(run.log())")
        let redisPort = try #require(firstPorts.first { $0.0 == "redis" }?.1)
        #expect(!Ports.isListening(run.dnsPort) && !Ports.isListening(redisPort))
        #expect(run.log().contains("stopped everything; every port is free"), "\(run.log())")
    }

    @Test func childrenDieWithTheLauncherEvenWhenItIsKilled() async throws {
        let redisPort = Ports.free()
        let run = try await LauncherRun(arguments: [
            "--fuge", TestPaths.packageRoot + "/fuge/fuge.yml", "--state", TestPaths.temporaryDirectory(prefix: "state"),
            "--only", "redis", "--port", "redis=\(redisPort)",
        ])
        #expect(await run.waitFor("micro is up"), "\(run.log())")
        let children = run.startedPIDs()
        #expect(children.map(\.name) == ["dns", "redis"])
        await run.process.kill9()
        for child in children {
            #expect(await processEnds(child.pid), "\(child.name) (pid \(child.pid)) outlived the launcher")
        }
        #expect(!Ports.isListening(redisPort) && !Ports.isListening(run.dnsPort))
    }
}

/// A TCP port something listens on for the length of a test.
final class HeldPort: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        port = Ports.free()
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 1) == 0 else { throw TestSupportError("cannot hold port \(port)") }
    }

    deinit { close(descriptor) }
}
