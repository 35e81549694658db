import Discovery
import Foundation
import NIOCore
import NIOPosix
import ProcessSupervision
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The balancer over targets found by a real dnsmasq, connecting with NIO to real listeners.
@Suite(.stopsServers) struct ServiceBalancerTests {
    @Test func roundRobinSpreadsCallsOverAllThreeTargets() async throws {
        let addresses = ["10.8.0.1", "10.8.0.2", "10.8.0.3"]
        let dns = try await DNSServer.start(records: DNSFixtures.records(service: "adderservice", addresses: addresses))
        let balancer = ServiceBalancer(resolver: DNSFixtures.resolver(port: dns.port), service: .adderservice)

        var counts: [String: Int] = [:]
        for _ in 0..<9 {
            let target = try await balancer.withTarget { $0 }
            counts[target.host, default: 0] += 1
        }
        #expect(counts == ["10.8.0.1": 3, "10.8.0.2": 3, "10.8.0.3": 3])
    }

    @Test func aTargetThatRefusesConnectionsIsSkipped() async throws {
        let listeners = try await [Listener.start(), Listener.start()]
        defer { listeners.forEach { $0.close() } }
        let deadPort = Ports.free()  // nothing listens here: connect is refused
        let records = [
            SRVRecord(name: DNSFixtures.srvName("adderservice"), target: "a.micro.svc.cluster.local", port: listeners[0].port),
            SRVRecord(name: DNSFixtures.srvName("adderservice"), target: "b.micro.svc.cluster.local", port: deadPort),
            SRVRecord(name: DNSFixtures.srvName("adderservice"), target: "c.micro.svc.cluster.local", port: listeners[1].port),
        ]
        let dns = try await DNSServer.start(records: records)
        let balancer = ServiceBalancer(resolver: DNSFixtures.resolver(port: dns.port), service: .adderservice)
        let attempts = Locked<[Int]>([])

        var served: [Int: Int] = [:]
        for _ in 0..<6 {
            let port = try await balancer.withTarget { target in
                attempts.withLock { $0.append(target.port) }
                try await connect(to: target)
                return target.port
            }
            served[port, default: 0] += 1
        }
        #expect(served[deadPort] == nil)
        #expect(served[listeners[0].port, default: 0] >= 2 && served[listeners[1].port, default: 0] >= 2)
        #expect(attempts.withLock { $0 }.contains(deadPort), "the dead target was tried and failed over")
    }

    @Test func everyTargetRefusingIsServiceUnreachableNamingThem() async throws {
        let ports = [Ports.free(), Ports.free()]
        let records = ports.enumerated().map { index, port in
            SRVRecord(name: DNSFixtures.srvName("adderservice"), target: "dead-\(index).micro.svc.cluster.local", port: port)
        }
        let dns = try await DNSServer.start(records: records)
        let balancer = ServiceBalancer(resolver: DNSFixtures.resolver(port: dns.port), service: .adderservice)
        let error = await #expect(throws: ServiceUnreachable.self) {
            try await balancer.withTarget { try await connect(to: $0) }
        }
        #expect(error?.failures.count == 2)
        #expect(ports.allSatisfy { port in "\(error.map { "\($0)" } ?? "")".contains("127.0.0.1:\(port)") })
        #expect(error.map(ServiceBalancer.isConnectionFailure) == true)
    }

    @Test func otherErrorsAreRethrownWithoutTryingAnotherTarget() async throws {
        let dns = try await DNSServer.start(records: DNSFixtures.records(service: "adderservice", addresses: ["10.9.0.1", "10.9.0.2"]))
        let balancer = ServiceBalancer(resolver: DNSFixtures.resolver(port: dns.port), service: .adderservice)
        let calls = Locked(0)
        await #expect(throws: BadAnswer.self) {
            try await balancer.withTarget { _ in
                calls.withLock { $0 += 1 }
                throw BadAnswer()
            }
        }
        #expect(calls.withLock { $0 } == 1)
    }

    @Test func lookupFailureIsTheDiscoveryError() async throws {
        let dns = try await DNSServer.start(records: [])
        let balancer = ServiceBalancer(resolver: DNSFixtures.resolver(port: dns.port), service: .auditservice)
        let error = await #expect(throws: DiscoveryError.self) { try await balancer.withTarget { $0 } }
        #expect(error?.kind == .notFound)
    }

    @Test func connectionFailuresAreRecognisedByType() async throws {
        let refused = await #expect(throws: ConnectFailed.self) {
            try await connect(to: ServiceTarget(host: "127.0.0.1", port: Ports.free()))
        }
        #expect(refused.map(ServiceBalancer.isConnectionFailure) == true, "a real refused connect: \(String(describing: refused))")
        let target = ServiceTarget(host: "127.0.0.1", port: 1)
        #expect(ServiceBalancer.isConnectionFailure(ConnectFailed(target: target, error: ChannelError.connectTimeout(.seconds(1)))))
        #expect(ServiceBalancer.isConnectionFailure(MarkedFailure(connect: true)))
    }

    /// What the error says, or which library threw it, does not count: only the connector knows
    /// whether anything was sent, and says so with the type it throws.
    @Test func otherErrorsAreNotConnectionFailures() {
        #expect(!ServiceBalancer.isConnectionFailure(IOError(errnoCode: ECONNREFUSED, reason: "connect(descriptor:addr:size:)")))
        #expect(!ServiceBalancer.isConnectionFailure(IOError(errnoCode: ETIMEDOUT, reason: "connect(descriptor:addr:size:)")))
        #expect(!ServiceBalancer.isConnectionFailure(IOError(errnoCode: ECONNRESET, reason: "read(descriptor:pointer:size:)")))
        #expect(!ServiceBalancer.isConnectionFailure(ChannelError.connectTimeout(.seconds(1))))
        #expect(!ServiceBalancer.isConnectionFailure(ChannelError.ioOnClosedChannel))
        #expect(!ServiceBalancer.isConnectionFailure(MarkedFailure(connect: false)))
        #expect(!ServiceBalancer.isConnectionFailure(BadAnswer()))
    }
}

private struct BadAnswer: Error {}

/// An error type from another module, marking which of its values mean "could not connect".
private struct MarkedFailure: ConnectionFailure {
    let connect: Bool
    var isConnectionFailure: Bool { connect }
}

/// Opens and closes a TCP connection with NIO, as an HTTP or Redis client would first do; a
/// failed connect is a `ConnectFailed`, as every client here throws it.
private func connect(to target: ServiceTarget) async throws {
    let channel: any Channel
    do {
        channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: target.host, port: target.port).get()
    } catch {
        throw ConnectFailed(target: target, error: error)
    }
    try? await channel.close()  // the listener may have closed it first
}

/// A TCP listener on a free loopback port that accepts and closes connections.
private struct Listener {
    let channel: any Channel
    var port: Int { channel.localAddress?.port ?? 0 }

    static func start() async throws -> Listener {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { $0.close() }
            .bind(host: "127.0.0.1", port: 0).get()
        return Listener(channel: channel)
    }

    func close() { channel.close(promise: nil) }
}
