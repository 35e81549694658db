@testable import EventService
import Foundation
import TestSupport
import Testing

/// The built `eventservice` executable, finding Redis through DNS (dnsmasq) like in the cluster.
@Suite("eventservice process")
struct EventServiceProcessTests {
    /// redis-server, dnsmasq answering `_main._tcp.redis…` with it, and the environment for the service.
    struct Environment {
        let redis: ServerProcess
        let dns: ServerProcess
        let httpPort = Ports.free()

        init() async throws {
            redis = try await RedisServer.start()
            dns = try await DNSServer.start(records: [
                SRVRecord(
                    name: "_main._tcp.redis.micro.svc.cluster.local", target: "redis-0.redis.micro.svc.cluster.local",
                    port: redis.port
                )
            ])
        }

        func startEventService() async throws -> ServerProcess {
            try await ServerProcess(
                name: "eventservice", executable: try TestPaths.builtExecutable("eventservice"), arguments: [],
                port: httpPort,
                environment: [
                    "EVENTSERVICE_SERVICE_PORT": "\(httpPort)", "DNS_HOST": "127.0.0.1", "DNS_PORT": "\(dns.port)",
                    "LOG_LEVEL": "info",
                ]
            )
        }
    }

    @Test func killedWithSIGKILLMidStreamThenRestartedTotalsAreExact() async throws {
        let environment = try await Environment()
        let harness = try await WorkerHarness(port: environment.redis.port, startWorker: false)
        let (messages, expected) = recordStream(count: 50_000, urls: 40)
        try await harness.push(messages)

        let first = try await environment.startEventService()
        try await waitUntil(timeout: .seconds(60), "the first events counted") {
            try await harness.counts().values.reduce(0, +) >= 3_000
        }
        first.kill9()
        let countedAtKill = try await harness.counts().values.reduce(0, +)
        #expect(countedAtKill < 50_000, "the kill should land mid-stream")

        let second = try await environment.startEventService()
        try await harness.waitUntilCounted(50_000, timeout: .seconds(120))
        #expect(try await harness.counts() == expected, "\(second.log())")
        #expect(try await harness.length(harness.keys.dead) == 0)
        second.stop()
    }

    @Test func readinessAnswersWithinItsLimitWhileRedisIsStalled() async throws {
        let environment = try await Environment()
        let service = try await environment.startEventService()
        defer { service.stop() }
        let (ready, _) = try await httpGet(port: environment.httpPort, path: "/readyz")
        #expect(ready == 200)
        environment.redis.signal(SIGSTOP)
        defer { environment.redis.signal(SIGCONT) }
        for _ in 0..<3 {
            let started = ContinuousClock.now
            let (status, body) = try await httpGet(port: environment.httpPort, path: "/readyz")
            let elapsed = ContinuousClock.now - started
            #expect(status == 503, "\(body)")
            #expect(elapsed <= .milliseconds(2200), "/readyz took \(elapsed) with Redis stalled")
            print("/readyz with Redis stalled: \(status) in \(elapsed)")
        }
        environment.redis.signal(SIGCONT)
        let back = await eventually(timeout: .seconds(15)) { (try? await httpGet(port: environment.httpPort, path: "/readyz").0) == 200 }
        #expect(back, "ready again once Redis resumes")
    }

    @Test func servesReadinessAndStopsCleanlyOnSIGTERM() async throws {
        let environment = try await Environment()
        let service = try await environment.startEventService()
        let (status, body) = try await httpGet(port: environment.httpPort, path: "/readyz")
        #expect(status == 200, "\(body)\n\(service.log())")

        service.signal(SIGTERM)
        #expect(await service.waitForExit(timeout: .seconds(10)) == 0, "\(service.log())")
    }
}

/// One GET on loopback, with URLSession's Linux implementation avoided: a plain socket is enough.
func httpGet(port: Int, path: String) async throws -> (Int, String) {
    let request = "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    let response = try await Task.detached { () throws -> String in
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, "127.0.0.1", &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw TestSupportError("connect to \(port) failed") }
        _ = request.withCString { send(fd, $0, strlen($0), 0) }
        var data = [UInt8]()
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            data += buffer[0..<count]
        }
        return String(decoding: data, as: UTF8.self)
    }.value
    let status = Int(response.split(separator: " ").dropFirst().first ?? "") ?? 0
    let body = response.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
    return (status, body)
}
