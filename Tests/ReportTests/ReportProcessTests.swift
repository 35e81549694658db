import Foundation
@testable import RedisAdapter
import TestSupport
import Testing

/// The built `report` executable, finding Redis through DNS (dnsmasq), answered by a real worker.
@Suite("report process")
struct ReportProcessTests {
    static let redisSRV = "_main._tcp.redis.micro.svc.cluster.local"

    func dns(redisPort: Int) async throws -> ServerProcess {
        try await DNSServer.start(records: [
            SRVRecord(name: Self.redisSRV, target: "redis-0.redis.micro.svc.cluster.local", port: redisPort)
        ])
    }

    @Test func printsTheTableAndTheRawJSON() async throws {
        let redis = try await RedisServer.start()
        let dns = try await dns(redisPort: redis.port)
        let worker = startWorker(port: redis.port)
        defer { worker.cancel() }
        let setup = try await connect(redis.port)
        defer { setup.close() }
        let visits = ["http://localhost:3000/": 3, "http://localhost:3000/add": 5, "http://localhost:3000/audit": 3]
        _ = try await setup.pipeline(visits.flatMap { url, count in
            Array(repeating: ["LPUSH", "eventservice", #"{"action":"record","type":"page","url":"\#(url)"}"#], count: count)
        })

        let table = try await runReport(["--timeout", "10"], dnsPort: dns.port)
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout == """
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

struct ProcessResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs the built `report` with `DNS_HOST`/`DNS_PORT` pointing at the test's dnsmasq.
/// posix_spawn + waitpid rather than Foundation's Process, whose exit monitoring left the child
/// unreaped (and the test waiting) here.
func runReport(_ arguments: [String], dnsPort: Int) async throws -> ProcessResult {
    let executable = try TestPaths.builtExecutable("report")
    let directory = TestPaths.temporaryDirectory(prefix: "report-run")
    let environment = ["DNS_HOST=127.0.0.1", "DNS_PORT=\(dnsPort)", "PATH=/usr/bin:/bin"]
    // waitpid blocks: on a thread of its own, so the cooperative pool stays free for the worker.
    let status = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int32, any Error>) in
        Thread {
            continuation.resume(with: Result {
                try spawnAndWait(
                    executable, arguments: [executable] + arguments, environment: environment,
                    stdout: directory + "/stdout", stderr: directory + "/stderr"
                )
            })
        }.start()
    }
    func read(_ name: String) -> String { (try? String(contentsOfFile: directory + "/" + name, encoding: .utf8)) ?? "" }
    return ProcessResult(status: status, stdout: read("stdout"), stderr: read("stderr"))
}

private func spawnAndWait(
    _ executable: String, arguments: [String], environment: [String], stdout: String, stderr: String
) throws -> Int32 {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    let argv = arguments.map { strdup($0) } + [nil]
    let envp = environment.map { strdup($0) } + [nil]
    defer { (argv + envp).forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, executable, &actions, nil, argv, envp)
    guard spawned == 0 else { throw TestSupportError("posix_spawn \(executable) failed: \(spawned)") }
    var status: Int32 = 0
    while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
    return (status >> 8) & 0xff
}
