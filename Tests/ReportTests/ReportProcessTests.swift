import Foundation
import TestSupport
import Testing

@testable import RedisAdapter

/// The built `report` executable, finding Redis through DNS (dnsmasq), answered by a real worker.
@Suite("report process", .stopsServers)
struct ReportProcessTests {
    static let redisSRV = "_main._tcp.redis.micro.svc.cluster.local"

    func dns(redisPort: Int) async throws -> ServerProcess {
        try await DNSServer.start(records: [.main("redis", port: redisPort)])
    }

    @Test func printsTheTableAndTheRawJSON() async throws {
        let redis = try await RedisServer.start()
        let dns = try await dns(redisPort: redis.port)
        let worker = startWorker(port: redis.port)
        defer { worker.cancel() }
        let setup = try await connect(redis.port)
        defer { setup.close() }
        let visits = ["http://localhost:3000/": 3, "http://localhost:3000/add": 5, "http://localhost:3000/audit": 3]
        _ = try await setup.pipeline(
            visits.flatMap { url, count in
                Array(repeating: ["LPUSH", "eventservice", #"{"action":"record","type":"page","url":"\#(url)"}"#], count: count)
            })

        let table = try await runReport(["--timeout", "10"], dnsPort: dns.port)
        #expect(table.status == 0, "\(table.stderr)")
        #expect(
            table.stdout == """
                url                          count
                ----------------------------------
                http://localhost:3000/add        5
                http://localhost:3000/           3
                http://localhost:3000/audit      3

                """)
        #expect(table.stderr.isEmpty)

        let json = try await runReport(["--json"], dnsPort: dns.port)
        #expect(json.status == 0)
        let object = try JSONDecoder().decode([String: Int].self, from: Data(json.stdout.utf8))
        #expect(object == visits)
    }

    @Test func noRedisAtTheAddressDNSGives() async throws {
        let dns = try await dns(redisPort: Ports.free())  // nothing listens there
        let result = try await runReport([], dnsPort: dns.port)
        #expect(result.status == 4)
        #expect(result.stdout.isEmpty)
        #expect(oneLine(result.stderr).hasPrefix("report: cannot reach Redis: "), "\(result.stderr)")
    }

    @Test func noAnswerWhenNoEventServiceRuns() async throws {
        let redis = try await RedisServer.start()
        let dns = try await dns(redisPort: redis.port)
        let started = ContinuousClock.now
        let result = try await runReport(["--timeout", "0.5"], dnsPort: dns.port)
        #expect(result.status == 5)
        #expect(oneLine(result.stderr) == "report: no answer from the eventservice within 0.500 s (is it running?)")
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    /// Any positive timeout is a deadline, the cause is named, and the request does not stay in
    /// the queue. (0.0001 used to become `BLPOP 0.000`, block forever.)
    @Test(arguments: [("0.001", "0.001"), ("0.0001", "0.000100")])
    func aTinyTimeoutWithNoEventServiceEndsWithinTwoSecondsNamingIt(timeout: String, shown: String) async throws {
        let redis = try await RedisServer.start()
        let dns = try await dns(redisPort: redis.port)
        let started = ContinuousClock.now
        let result = try await runReport(["--timeout", timeout], dnsPort: dns.port)
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < .seconds(2), "took \(elapsed)")
        #expect(result.status == 5)
        #expect(oneLine(result.stderr) == "report: no answer from the eventservice within \(shown) s (is it running?)")

        let setup = try await connect(redis.port)
        defer { setup.close() }
        #expect(try await setup.command(["LLEN", "eventservice"]) == .integer(0), "the request stays queued")
        let stats = try await setup.command(["INFO", "commandstats"]).string ?? ""
        #expect(stats.contains("cmdstat_lpush:calls=1,"), "it did queue its request\n\(stats)")
    }

    @Test func aStalledRedisEndsTheReportByItsDeadline() async throws {
        let redis = try await RedisServer.start()
        let dns = try await dns(redisPort: redis.port)
        redis.signal(SIGSTOP)
        defer { redis.signal(SIGCONT) }
        let started = ContinuousClock.now
        let result = try await runReport(["--timeout", "0.5"], dnsPort: dns.port)
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < .milliseconds(1500), "took \(elapsed)")
        #expect(result.status == 4)
        #expect(oneLine(result.stderr) == "report: cannot reach Redis: Redis did not answer within 0.500 s")
    }

    @Test func aStalledDNSServerEndsTheReportByItsDeadline() async throws {
        let dns = try await dns(redisPort: Ports.free())
        dns.signal(SIGSTOP)
        defer { dns.signal(SIGCONT) }
        let started = ContinuousClock.now
        let result = try await runReport(["--timeout", "0.3"], dnsPort: dns.port)
        let elapsed = ContinuousClock.now - started
        #expect(elapsed < .milliseconds(1300), "took \(elapsed)")
        #expect(result.status == 3)
        #expect(oneLine(result.stderr) == "report: cannot find Redis: DNS did not answer within 0.300 s")
    }

    @Test func dnsFailureNamesTheQuery() async throws {
        let dns = try await DNSServer.start(records: [])  // answers NXDOMAIN for the Redis SRV name
        let result = try await runReport([], dnsPort: dns.port)
        #expect(result.status == 3)
        #expect(oneLine(result.stderr).hasPrefix("report: cannot find Redis: "), "\(result.stderr)")
        #expect(result.stderr.contains(Self.redisSRV))
    }

    /// The text when it is exactly one line (with its newline), otherwise a marker that fails the test.
    private func oneLine(_ text: String) -> String {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count == 2, lines[1].isEmpty else { return "<not one line: \(text)>" }
        return String(lines[0])
    }
}

/// Runs the built `report` with `DNS_HOST`/`DNS_PORT` pointing at the test's dnsmasq.
func runReport(_ arguments: [String], dnsPort: Int) async throws -> (status: Int32, stdout: String, stderr: String) {
    let environment = ["DNS_HOST": "127.0.0.1", "DNS_PORT": "\(dnsPort)", "PATH": "/usr/bin:/bin"]
    let result = try await CommandResult.execute(try TestPaths.builtExecutable("report"), arguments, environment: environment)
    #expect(!result.timedOut, "report still ran after 120 s")
    return (result.status, result.standardOutput, result.standardError)
}
