import Discovery
import Foundation
import Logging
import NIOCore
import NIOPosix
import ProcessSupervision
import TestSupport
import Testing

/// The resolver against a real dnsmasq on a loopback port (direct mode).
@Suite(.stopsServers) struct ResolverTests {
    @Test func oneTargetGivesItsAddressAndPort() async throws {
        let dns = try await DNSServer.start(records: DNSFixtures.records(service: "adderservice", addresses: ["10.1.2.3"], port: 8080))
        let targets = try await DNSFixtures.resolver(port: dns.port).resolve(.adderservice)
        #expect(targets == [ServiceTarget(host: "10.1.2.3", port: 8080)])
    }

    @Test func threeTargetsBehindOneNameAreAllReturned() async throws {
        let addresses = ["10.0.0.3", "10.0.0.1", "10.0.0.2"]
        let dns = try await DNSServer.start(records: DNSFixtures.records(service: "auditservice", addresses: addresses, port: 8081))
        let targets = try await DNSFixtures.resolver(port: dns.port).resolve(.auditservice)
        #expect(targets.count == 3)
        #expect(Set(targets) == Set(addresses.map { ServiceTarget(host: $0, port: 8081) }))
    }

    @Test func webappIsLookedUpUnderItsHTTPPortName() async throws {
        let record = SRVRecord(
            name: DNSFixtures.srvName("webapp", port: "http"), target: "webapp-0.micro.svc.cluster.local", port: 3000, address: "10.3.0.1")
        let dns = try await DNSServer.start(records: [record])
        #expect(try await DNSFixtures.resolver(port: dns.port).resolve(.webapp) == [ServiceTarget(host: "10.3.0.1", port: 3000)])
    }

    @Test func dnsHostMayBeANameLikeLocalhost() async throws {
        let dns = try await DNSServer.start(records: DNSFixtures.records(service: "adderservice", addresses: ["10.1.2.4"]))
        let targets = try await DNSFixtures.resolver(port: dns.port, host: "localhost").resolve(.adderservice)
        #expect(targets == [ServiceTarget(host: "10.1.2.4", port: 8080)])
    }

    @Test func unknownNameIsATypedNotFoundNamingQueryAndServer() async throws {
        let dns = try await DNSServer.start(records: DNSFixtures.records(service: "adderservice", addresses: ["10.1.2.3"]))
        let error = await #expect(throws: DiscoveryError.self) {
            try await DNSFixtures.resolver(port: dns.port).resolve(service: "nosuchservice")
        }
        #expect(error?.kind == .notFound)
        #expect(error?.query == DNSFixtures.srvName("nosuchservice"))
        #expect(error?.server == "127.0.0.1:\(dns.port)")
        #expect("\(error.map { "\($0)" } ?? "")".contains("_main._tcp.nosuchservice.micro.svc.cluster.local"))
        #expect("\(error.map { "\($0)" } ?? "")".contains("127.0.0.1:\(dns.port)"))
    }

    @Test func srvTargetWithoutAddressIsAnError() async throws {
        // dnsmasq answers the SRV record, but the target has no A record (NXDOMAIN under --local).
        let port = Ports.free()
        // Runs until the test ends (ServerScope).
        _ = try await DNSFixtures.dnsmasq(
            port: port, extra: ["--srv-host=\(DNSFixtures.srvName("adderservice")),ghost.micro.svc.cluster.local,8080"])
        let error = await #expect(throws: DiscoveryError.self) {
            try await DNSFixtures.resolver(port: port).resolve(.adderservice)
        }
        #expect(error?.kind == .notFound)
        #expect(error?.detail.contains("ghost.micro.svc.cluster.local") == true)
    }

    @Test func targetWithoutAddressIsLeftOutWhenOthersResolve() async throws {
        let port = Ports.free()
        // Runs until the test ends (ServerScope).
        _ = try await DNSFixtures.dnsmasq(
            port: port, records: DNSFixtures.records(service: "adderservice", addresses: ["10.1.3.1"]),
            extra: ["--srv-host=\(DNSFixtures.srvName("adderservice")),ghost.micro.svc.cluster.local,8080"]
        )
        #expect(try await DNSFixtures.resolver(port: port).resolve(.adderservice) == [ServiceTarget(host: "10.1.3.1", port: 8080)])
    }

    @Test func deadServerWithoutAnyAnswerIsATypedErrorNamingTheServer() async throws {
        let port = Ports.free()  // nothing listens: the query is refused at once
        let started = ContinuousClock.now
        let error = await #expect(throws: DiscoveryError.self) {
            try await DNSFixtures.resolver(port: port).resolve(.adderservice)
        }
        #expect([.serverFailure, .timeout].contains(error?.kind))
        #expect(error?.server == "127.0.0.1:\(port)")
        #expect(ContinuousClock.now - started < .seconds(5), "a dead DNS server must not hang the caller")
    }

    @Test func silentServerTimesOutWithinTheConfiguredTimeout() async throws {
        // A UDP socket that reads queries and never answers: a DNS server that hangs.
        let silent = try await Self.silentUDPSocket(port: 0)
        defer { silent.close(promise: nil) }
        let port = try #require(silent.localAddress?.port)
        let started = ContinuousClock.now
        let error = await #expect(throws: DiscoveryError.self) {
            try await DNSFixtures.resolver(port: port, options: ResolverOptions(timeoutSeconds: 1, attempts: 1)).resolve(.adderservice)
        }
        #expect(error?.kind == .timeout)
        #expect(ContinuousClock.now - started < .seconds(4))
    }

    @Test func lastGoodAnswerIsServedAfterTheServerIsKilled() async throws {
        let dns = try await DNSServer.start(
            records: DNSFixtures.records(service: "adderservice", addresses: ["10.2.0.1", "10.2.0.2"]), ttl: 1)
        // No stale window: every lookup after the TTL waits for DNS, which is dead.
        let options = ResolverOptions(timeoutSeconds: 1, attempts: 1, retryAfterFailure: .milliseconds(300), staleWhileRevalidate: .zero)
        let lines = Locked<[String]>([])
        let logger = Logger(label: "discovery-test") { _ in RecordingLogHandler(lines: lines) }
        let resolver = DNSFixtures.resolver(port: dns.port, options: options, logger: logger)
        let good = try await resolver.resolve(.adderservice)
        #expect(good.count == 2)
        await dns.kill9()
        try await Task.sleep(for: .milliseconds(1_200))  // past the TTL: the resolver must ask again

        #expect(try await resolver.resolve(.adderservice) == good)
        let warnings = lines.withLock { $0 }.filter { $0.hasPrefix("warning") }
        #expect(warnings.count == 1)
        #expect(warnings.first?.contains("last good answer") == true)
        #expect(
            warnings.first?.contains("_main._tcp.adderservice.micro.svc.cluster.local via 127.0.0.1:\(dns.port)") == true, "\(warnings)")
        // The server really is gone: a resolver without a last good answer fails.
        await #expect(throws: DiscoveryError.self) { try await DNSFixtures.resolver(port: dns.port).resolve(.adderservice) }

        // DNS comes back with other records: once the retry pause is over, the new answer is served.
        // Runs until the test ends (ServerScope).
        _ = try await DNSServer.start(
            records: DNSFixtures.records(service: "adderservice", addresses: ["10.2.0.9"]), ttl: 1, port: dns.port)
        try await Task.sleep(for: .milliseconds(400))
        #expect(try await resolver.resolve(.adderservice) == [ServiceTarget(host: "10.2.0.9", port: 8080)])
    }

    @Test func answersAreCachedForTheirTTL() async throws {
        let name = DNSFixtures.srvName("adderservice")
        let dns = try await DNSFixtures.loggingDNSServer(
            records: DNSFixtures.records(service: "adderservice", addresses: ["10.4.0.1"]), ttl: 30)
        let resolver = DNSFixtures.resolver(port: dns.port)
        let first = try await resolver.resolve(.adderservice)
        let second = try await resolver.resolve(.adderservice)
        #expect(first == second)
        #expect(await DNSFixtures.queries(dns, type: "SRV", name: name, expected: 1) == 1)
    }

    @Test func ttlZeroIsNotCached() async throws {
        let name = DNSFixtures.srvName("adderservice")
        let dns = try await DNSFixtures.loggingDNSServer(
            records: DNSFixtures.records(service: "adderservice", addresses: ["10.4.0.2"]), ttl: 0)
        let resolver = DNSFixtures.resolver(port: dns.port)
        _ = try await resolver.resolve(.adderservice)
        _ = try await resolver.resolve(.adderservice)
        #expect(await DNSFixtures.queries(dns, type: "SRV", name: name, expected: 2) == 2)
    }

    @Test func concurrentLookupsOfOneNameShareOneQuery() async throws {
        let name = DNSFixtures.srvName("eventservice")
        let dns = try await DNSFixtures.loggingDNSServer(
            records: DNSFixtures.records(service: "eventservice", addresses: ["10.5.0.1"], port: 8082), ttl: 30)
        let resolver = DNSFixtures.resolver(port: dns.port)
        let answers = try await withThrowingTaskGroup(of: [ServiceTarget].self) { group in
            for _ in 0..<20 { group.addTask { try await resolver.resolve(.eventservice) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.count == 20)
        #expect(answers.allSatisfy { $0 == [ServiceTarget(host: "10.5.0.1", port: 8082)] })
        #expect(await DNSFixtures.queries(dns, type: "SRV", name: name, expected: 1) == 1)
    }

    @Test func expiredAnswerIsQueriedAgainAndTheNewAnswerSeen() async throws {
        let port = Ports.free()
        let old = try await DNSServer.start(
            records: DNSFixtures.records(service: "adderservice", addresses: ["10.6.0.1"]), ttl: 1, port: port)
        // No stale window: the first lookup after the TTL waits for the new answer.
        let resolver = DNSFixtures.resolver(
            port: port, options: ResolverOptions(timeoutSeconds: 1, attempts: 1, staleWhileRevalidate: .zero))
        #expect(try await resolver.resolve(.adderservice) == [ServiceTarget(host: "10.6.0.1", port: 8080)])
        let resolvedAt = ContinuousClock.now

        // The same server port now answers something else (a scaled deployment, new pods).
        await old.stop()
        // Runs until the test ends (ServerScope).
        _ = try await DNSServer.start(
            records: DNSFixtures.records(service: "adderservice", addresses: ["10.6.0.2", "10.6.0.3"]), ttl: 1, port: port
        )
        try await Task.sleep(until: resolvedAt + .milliseconds(1_200))

        let targets = try await resolver.resolve(.adderservice)
        #expect(Set(targets) == [ServiceTarget(host: "10.6.0.2", port: 8080), ServiceTarget(host: "10.6.0.3", port: 8080)])
    }

    /// Stale-while-revalidate: just after the TTL the old answer comes back at once, and the query
    /// it started brings the new one for the next callers.
    @Test func justExpiredAnswerIsServedAtOnceWhileTheRefreshFindsTheNewOne() async throws {
        let port = Ports.free()
        let old = try await DNSServer.start(
            records: DNSFixtures.records(service: "adderservice", addresses: ["10.7.0.1"]), ttl: 1, port: port)
        let resolver = DNSFixtures.resolver(port: port)
        let before = [ServiceTarget(host: "10.7.0.1", port: 8080)]
        #expect(try await resolver.resolve(.adderservice) == before)
        let resolvedAt = ContinuousClock.now
        await old.stop()
        // Runs until the test ends (ServerScope).
        _ = try await DNSServer.start(records: DNSFixtures.records(service: "adderservice", addresses: ["10.7.0.2"]), ttl: 1, port: port)
        try await Task.sleep(until: resolvedAt + .milliseconds(1_200))

        #expect(try await resolver.resolve(.adderservice) == before)
        let after = [ServiceTarget(host: "10.7.0.2", port: 8080)]
        #expect(await eventually(timeout: .seconds(3)) { (try? await resolver.resolve(.adderservice)) == after })
    }

    /// A DNS server that stops answering (overloaded, mid-restart) never holds a caller while the
    /// last answer is warm: the refresh waits out libresolv's timeout in the background.
    @Test func hungDNSServerDoesNotDelayLookupsOfAWarmAnswer() async throws {
        let dns = try await DNSServer.start(records: DNSFixtures.records(service: "adderservice", addresses: ["10.8.0.1"]), ttl: 1)
        let lines = Locked<[String]>([])
        let logger = Logger(label: "discovery-test") { _ in RecordingLogHandler(lines: lines) }
        let options = ResolverOptions(timeoutSeconds: 1, attempts: 1, retryAfterFailure: .milliseconds(200))
        let resolver = DNSFixtures.resolver(port: dns.port, options: options, logger: logger)
        let good = try await resolver.resolve(.adderservice)
        // The server's port now reads queries and never answers: each refresh times out.
        await dns.kill9()
        let silent = try await Self.silentUDPSocket(port: dns.port)
        defer { silent.close(promise: nil) }
        try await Task.sleep(for: .milliseconds(1_100))  // past the TTL

        // Lookups for 2.5 s: each refresh takes a 1 s timeout, no caller waits for one.
        let until = ContinuousClock.now + .milliseconds(2_500)
        while ContinuousClock.now < until {
            let started = ContinuousClock.now
            #expect(try await resolver.resolve(.adderservice) == good)
            #expect(ContinuousClock.now - started < .milliseconds(300))
            try await Task.sleep(for: .milliseconds(100))
        }
        let warnings = lines.withLock { $0 }.filter { $0.contains("serving the last good answer") }
        #expect(warnings.count >= 1, "the failed refreshes are logged")
    }

    /// A UDP socket on `port` (0: any) that reads queries and never answers: a DNS server that
    /// hangs. Retried for a moment while a killed server's process (behind its supervisor) still
    /// holds the port.
    private static func silentUDPSocket(port: Int) async throws -> any Channel {
        let deadline = ContinuousClock.now + .seconds(3)
        while true {
            do {
                return try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: port).get()
            } catch  where ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    @Test func targetsAreOrderedBySRVPriority() async throws {
        let port = Ports.free()
        let name = DNSFixtures.srvName("redis")
        // dnsmasq --srv-host=name,target,port,priority,weight
        // Runs until the test ends (ServerScope).
        _ = try await DNSFixtures.dnsmasq(
            port: port,
            extra: [
                "--srv-host=\(name),backup.micro.svc.cluster.local,6379,20,0",
                "--srv-host=\(name),primary.micro.svc.cluster.local,6379,10,0",
                "--host-record=backup.micro.svc.cluster.local,10.7.0.2",
                "--host-record=primary.micro.svc.cluster.local,10.7.0.1",
            ])
        let targets = try await DNSFixtures.resolver(port: port).resolve(.redis)
        #expect(targets == [ServiceTarget(host: "10.7.0.1", port: 6379), ServiceTarget(host: "10.7.0.2", port: 6379)])
    }
}
