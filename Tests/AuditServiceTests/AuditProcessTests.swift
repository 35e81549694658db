import Foundation
import NIOHTTP1
import TestSupport
import Testing

/// The built executable as it runs in the local environment: Mongo found through dnsmasq,
/// an append and a list over real HTTP, then a clean stop on SIGTERM.
@Suite(.stopsServers) struct AuditProcessTests {
    @Test func builtExecutableAppendsListsAndStopsCleanly() async throws {
        let mongo = try await MongoServer.start()
        let service = try await ServiceProcess.start("auditservice", finding: ["mongo": mongo.port])
        let client = TestHTTPClient(port: service.port)
        try await Self.waitUntilReady(service)
        let appended = try await client.execute(
            "POST", "/append", headers: [("Content-Type", "application/json")], body: Array(#"{"calc": "2+3", "calcResult": 5}"#.utf8)
        )
        #expect(appended.status == .created, "\(appended.text)")
        let listed = try await client.get("/list")
        #expect(listed.status == .ok)
        #expect(listed.text.hasPrefix(#"{"list":[{"#) && listed.text.contains(#""calc":"2+3""#), "\(listed.text)")
        service.signal(SIGTERM)
        #expect(await service.waitForExit(timeout: .seconds(10)) == 0)
        #expect(service.log().contains("path=/append"), "one log line per request: \(service.log())")
    }

    @Test func readinessAnswersWithinItsLimitWhileMongoIsStalled() async throws {
        let mongo = try await MongoServer.start()
        let service = try await ServiceProcess.start("auditservice", finding: ["mongo": mongo.port])
        try await Self.waitUntilReady(service)
        try await StalledDependency.expectUnreadyInTime(service, whileStalled: mongo)
    }

    static func waitUntilReady(_ service: ServerProcess) async throws {
        let ready = await eventually(timeout: .seconds(20)) {
            (try? await TestHTTPClient(port: service.metricsPort).get("/readyz").status) == .ok
        }
        guard ready else { throw TestSupportError("never ready:\n\(service.log())") }
    }
}
