import Foundation
import NIOHTTP1
import TestSupport
import Testing

/// The built adderservice as a process under attack: out of descriptors, after a connection
/// storm, and fed malformed requests. What counts is what an operator sees: the process answers,
/// does not spin or die, gives memory back, and logs no errors for its clients' mistakes.
@Suite(.serialized, .loadTest) struct HostileProcessTests {
    static func start(_ name: String, nofile: Int) async throws -> ServerProcess {
        let port = Ports.free(), metricsPort = Ports.free()
        return try await ServerProcess(
            name: name, executable: "/usr/bin/prlimit",
            arguments: ["--nofile=\(nofile):\(nofile)", try TestPaths.builtExecutable("adderservice")],
            port: port, metricsPort: metricsPort,
            environment: ["ADDERSERVICE_SERVICE_PORT": "\(port)", "ADDERSERVICE_SERVICE_PORT_METRICS": "\(metricsPort)"]
        )
    }

    /// CPU seconds the process has used (user + system), from /proc.
    static func cpuSeconds(_ pid: Int32) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let afterName = stat.lastIndex(of: ")")
        else { return -1 }
        let fields = stat[stat.index(after: afterName)...].split(separator: " ")
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)  // utime, stime
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    static func residentKB(_ pid: Int32) -> Int { statusKB(pid, "VmRSS") }

    /// A size from /proc/<pid>/status: VmRSS (resident now), VmHWM (resident at its peak).
    static func statusKB(_ pid: Int32, _ field: String) -> Int {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix(field + ":") } ?? ""
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? -1
    }

    /// The service's port full, the admin port still answers the kubelet: its connections are
    /// counted apart (a pod at its cap is busy, not dead).
    @Test func withTheDescriptorLimitAt256And300SilentConnectionsTheServiceStillAnswersAndNothingSpins() async throws {
        let server = try await Self.start("adderservice-nofile", nofile: 256)
        let silent = (1...300).compactMap { _ in try? RawConnection(port: server.port) }
        #expect(silent.count == 300)
        try await Task.sleep(for: .milliseconds(500))
        let cpuBefore = Self.cpuSeconds(server.pid)
        try await Task.sleep(for: .seconds(2))
        let cpuUsed = Self.cpuSeconds(server.pid) - cpuBefore
        #expect(cpuUsed < 0.5, "the process used \(cpuUsed) s of CPU in 2 s while holding idle connections")

        let start = ContinuousClock.now
        let response = try await TestHTTPClient(port: server.port).execute("GET", "/add/2/3", timeout: .seconds(3))
        #expect([200, 503].contains(response.status.code), "\(response.status)")
        #expect(start.duration(to: .now) < .seconds(1), "answered or refused at once")
        #expect(
            try await TestHTTPClient(port: server.metricsPort).get("/healthz").status == .ok, "the admin port, while the service's is full")
        #expect(server.isRunning, "\(server.log())")
        for connection in silent { connection.close() }
        let answered = await eventually(timeout: .seconds(5)) {
            (try? await TestHTTPClient(port: server.port).get("/add/2/3").status.code) == 200
        }
        #expect(answered, "once the silent connections are gone, the service answers")
    }

    @Test func aftera5000ConnectionStormMemoryReturnsToItsIdleLevel() async throws {
        let server = try await Self.start("adderservice-storm", nofile: 16384)
        let client = TestHTTPClient(port: server.port)
        for _ in 1...50 { _ = try await client.get("/add/2/3") }
        try await Task.sleep(for: .seconds(1))
        let idle = Self.residentKB(server.pid)

        var storm: [RawConnection] = []
        for _ in 1...5000 {
            let connection = try RawConnection(port: server.port)
            try connection.send("GET /add/2/3 HTTP/1.1\r\nHost: x\r\n\r\n")
            storm.append(connection)
        }
        for connection in storm.suffix(10) { #expect(await connection.readResponse()?.text == #"{"result":5}"#) }
        let loaded = Self.residentKB(server.pid)
        for connection in storm { connection.close() }
        storm.removeAll()

        let settled = await eventually(timeout: .seconds(10), poll: .milliseconds(250)) {
            Self.residentKB(server.pid) <= idle * 11 / 10
        }
        #expect(settled, "idle \(idle) kB, with 5000 connections \(loaded) kB, after \(Self.residentKB(server.pid)) kB")
        #expect((try? await client.get("/add/2/3").status.code) == 200)
    }

    /// 32 clients with small receive windows pipeline `GET /metrics` (the largest answers) as
    /// fast as the server reads and never read an answer, which once drove a service to hundreds of MB: the real service holds a
    /// small window of answers for each and reads no further, so its peak memory stays low, and
    /// /healthz answers at once throughout. On the admin port, whose connection handling is the
    /// service port's.
    @Test(arguments: ["adderservice", "webapp"])
    func clientsThatPipelineAndNeverReadCostLittleMemoryAndDelayNoOne(service: String) async throws {
        let server = try await ServiceProcess.start(service)
        let port = server.metricsPort, path = "/healthz"
        #expect(try await TestHTTPClient(port: port).get(path).status == .ok)  // its first answer, unhurried
        let flood = Array(String(repeating: "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", count: 100_000).utf8)  // 3.6 MB
        let clients = try (1...32).map { _ in try RawConnection(port: port, receiveBuffer: 4096, sendBuffer: 16384) }
        defer { for client in clients { client.close() } }
        let floodTime = Duration.seconds(5)
        var slow: [String] = [], slowest = Duration.zero, answered = 0, probes = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in clients {
                group.addTask { _ = await client.send(flood, stoppingAfter: floodTime) }
            }
            let begin = ContinuousClock.now, end = begin + floodTime
            // Probed once the clients are flooding: 32 threads starting in this process would be
            // what the first probe measures.
            try await Task.sleep(for: .milliseconds(250))
            while ContinuousClock.now < end {
                let start = ContinuousClock.now
                let response = try? await TestHTTPClient(port: port).execute("GET", path, timeout: .seconds(2))
                let took = start.duration(to: .now)
                slowest = max(slowest, took)
                if took > .milliseconds(50) { slow.append("\(took) at \(begin.duration(to: start))") }
                probes += 1
                if response?.status == .ok { answered += 1 }
                try await Task.sleep(for: .milliseconds(50))
            }
            try await group.waitForAll()
        }
        let peakKB = Self.statusKB(server.pid, "VmHWM")
        #expect(peakKB > 0 && peakKB < 64 * 1024, "\(service): VmHWM \(peakKB) kB")
        #expect(answered == probes && probes > 20, "\(service): \(path) answered \(answered) of \(probes)")
        #expect(slowest < .milliseconds(100), "\(service): \(path) over 50 ms: \(slow)")
        #expect(server.isRunning, "\(server.log())")
    }

    @Test func malformedRequestsAre400sWithoutErrorLogLines() async throws {
        let server = try await Self.start("adderservice-malformed", nofile: 1024)
        let requests = [
            "POST /add/2/3 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "POST /add/2/3 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\n",
            "POST /add/2/3 HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\nabc",
        ]
        for bytes in requests {
            let connection = try RawConnection(port: server.port)
            try connection.send(bytes)
            connection.shutdownWrite()
            let (answer, _) = await connection.readUntilClosed(timeout: .seconds(5))
            #expect(String(decoding: answer, as: UTF8.self).hasPrefix("HTTP/1.1 400 "), "\(bytes.debugDescription)")
            connection.close()
        }
        try await Task.sleep(for: .milliseconds(200))
        let log = server.log()
        #expect(!log.contains("level=error") && !log.contains("level=critical"), "\(log)")
        #expect(log.components(separatedBy: "status=400").count - 1 == 3, "\(log)")
        #expect(server.isRunning)
    }
}
