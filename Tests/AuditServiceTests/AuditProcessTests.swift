import Foundation
import Testing
import TestSupport

#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The built executable as it runs in the local environment: Mongo found through dnsmasq,
/// an append and a list over real HTTP, then a clean stop on SIGTERM.
@Suite struct AuditProcessTests {
    @Test func builtExecutableAppendsListsAndStopsCleanly() async throws {
        let mongo = try await MongoServer.start()
        let dns = try await DNSServer.start(records: [
            SRVRecord(name: "_main._tcp.mongo.micro.svc.cluster.local", target: "mongo.micro.svc.cluster.local", port: mongo.port)
        ])
        let port = Ports.free()
        let service = try await ServerProcess(
            name: "auditservice", executable: try TestPaths.builtExecutable("auditservice"), arguments: [], port: port,
            environment: ["AUDITSERVICE_SERVICE_PORT": "\(port)", "DNS_HOST": "127.0.0.1", "DNS_PORT": "\(dns.port)"]
        )
        let base = "http://127.0.0.1:\(port)"
        let deadline = ContinuousClock.now + .seconds(20)
        while try await request("\(base)/readyz").status != 200 {
            guard ContinuousClock.now < deadline else { throw TestSupportError("never ready:\n\(service.log())") }
            try await Task.sleep(for: .milliseconds(100))
        }
        let appended = try await request("\(base)/append", post: #"{"calc": "2+3", "calcResult": 5}"#)
        #expect(appended.status == 201, "\(appended.body)")
        let listed = try await request("\(base)/list")
        #expect(listed.status == 200)
        #expect(listed.body.hasPrefix(#"{"list":[{"#) && listed.body.contains(#""calc":"2+3""#), "\(listed.body)")
        service.signal(SIGTERM)
        #expect(await service.waitForExit(timeout: .seconds(10)) == 0)
        #expect(service.log().contains("path=/append"), "one log line per request: \(service.log())")
    }

    @Test func readinessAnswersWithinItsLimitWhileMongoIsStalled() async throws {
        let mongo = try await MongoServer.start()
        let dns = try await DNSServer.start(records: [
            SRVRecord(name: "_main._tcp.mongo.micro.svc.cluster.local", target: "mongo.micro.svc.cluster.local", port: mongo.port)
        ])
        let port = Ports.free()
        let service = try await ServerProcess(
            name: "auditservice", executable: try TestPaths.builtExecutable("auditservice"), arguments: [], port: port,
            environment: ["AUDITSERVICE_SERVICE_PORT": "\(port)", "DNS_HOST": "127.0.0.1", "DNS_PORT": "\(dns.port)"]
        )
        defer { service.stop() }
        let ready = await eventually(timeout: .seconds(20)) { (try? await request("http://127.0.0.1:\(port)/readyz").status) == 200 }
        #expect(ready, "\(service.log())")
        mongo.signal(SIGSTOP)
        defer { mongo.signal(SIGCONT) }
        for _ in 0..<3 {
            let started = ContinuousClock.now
            let answer = try await request("http://127.0.0.1:\(port)/readyz")
            let elapsed = ContinuousClock.now - started
            #expect(answer.status == 503, "\(answer.body)")
            #expect(elapsed <= .milliseconds(2200), "/readyz took \(elapsed) with Mongo stalled")
            print("/readyz with Mongo stalled: \(answer.status) in \(elapsed)")
        }
    }

    private func request(_ url: String, post body: String? = nil) async throws -> (status: Int, body: String) {
        var request = URLRequest(url: try #require(URL(string: url)), timeoutInterval: 5)
        if let body {
            request.httpMethod = "POST"
            request.httpBody = Data(body.utf8)
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: data, as: UTF8.self))
    }
}
