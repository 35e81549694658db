import Contracts
import Discovery
import Foundation
import MongoAdapter
import NIOCore
import NIOHTTP1
import ServiceRuntime
import Synchronization
import TestSupport
import Testing

@testable import AuditService

/// Runs auditservice in-process (on a loopback port, the connector running beside it) against
/// whatever `locate` says Mongo is; short retry timings so reconnect tests stay quick.
enum AuditHarness {
    static let timing = AuditDatabase.Timing(
        retry: Backoff(initial: .milliseconds(50), maximum: .milliseconds(400)), healthCheckInterval: .milliseconds(200)
    )

    static func withService<T: Sendable>(
        locate: @escaping @Sendable () async throws -> [ServiceTarget],
        _ body: @escaping @Sendable (TestHTTPClient) async throws -> T
    ) async throws -> T {
        // Free ports: the service table's own (8081, 9081) would be shared by every test running at once.
        let runtime = try ServiceRuntime(
            service: .auditservice,
            environment: [
                "AUDITSERVICE_SERVICE_PORT": "\(Ports.free())", "AUDITSERVICE_SERVICE_PORT_METRICS": "\(Ports.free())",
                "LOG_LEVEL": "error",
            ]
        )
        let database = AuditDatabase(timing: timing, logger: runtime.logger, locate: locate)
        return try await buildApplication(runtime: runtime, database: database).withRunning { ports in
            try await body(TestHTTPClient(port: try #require(ports.main), adminPort: ports.metrics))
        }
    }

    /// The service pointed straight at `port` on loopback.
    static func withService<T: Sendable>(
        mongoPort port: Int, _ body: @escaping @Sendable (TestHTTPClient) async throws -> T
    ) async throws -> T {
        try await withService(locate: { [ServiceTarget(host: "127.0.0.1", port: port)] }, body)
    }
}

extension AuditHarness {
    /// True when `audit.audit` has an index whose first key is `ts` (nx-27017 stores the index
    /// as its own `idx_audit_ts` on `{ts: 1}`, whatever name and direction were asked for).
    static func hasIndexOnTs(_ pool: MongoClientPool) async throws -> Bool {
        let reply = try await pool.command(["listIndexes": .string("audit")], database: "audit")
        guard case .document(let cursor)? = reply["cursor"], case .array(let indexes)? = cursor["firstBatch"] else { return false }
        return indexes.contains { index in
            guard case .document(let index) = index, case .document(let keys)? = index["key"] else { return false }
            return keys.keys.first == "ts"
        }
    }
}

/// A Mongo address a test can change while the service runs (Mongo "moving").
final class MovableTarget: Sendable {
    private let target: Synchronization.Mutex<ServiceTarget>
    init(port: Int) { target = Synchronization.Mutex(ServiceTarget(host: "127.0.0.1", port: port)) }
    func move(to port: Int) { target.withLock { $0 = ServiceTarget(host: "127.0.0.1", port: port) } }
    var current: [ServiceTarget] { [target.withLock { $0 }] }
}

extension TestHTTPClient {
    func append(_ json: String) async throws -> TestHTTPResponse {
        try await execute("POST", "/append", headers: [("content-type", "application/json")], body: Array(json.utf8))
    }

    func appendBatch(_ json: String) async throws -> TestHTTPResponse {
        try await execute("POST", "/append/batch", headers: [("content-type", "application/json")], body: Array(json.utf8))
    }

    func list(_ query: String = "") async throws -> TestHTTPResponse {
        try await get("/list" + query)
    }

    func readyStatus() async throws -> HTTPResponseStatus {
        try await admin.get("/readyz").status
    }

    /// Polls until `condition` holds for a fresh response (or fails the test after `timeout`).
    func waitUntil(
        _ what: String, timeout: Duration = .seconds(30), _ condition: @escaping @Sendable () async throws -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (try? await condition()) == true { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("timed out waiting until \(what)")
        throw TestSupportError("timed out waiting until \(what)")
    }

    func waitUntilReady() async throws {
        try await waitUntil("/readyz is 200") { try await readyStatus() == .ok }
    }
}

extension TestHTTPResponse {
    /// The body as a JSON object (fails the test when it is not one).
    func jsonObject() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        return try #require(object as? [String: Any], "not a JSON object: \(text)")
    }

    /// The `error` message of a `{"error": "…"}` body, which must have no other key.
    func errorMessage() throws -> String {
        let object = try jsonObject()
        #expect(Array(object.keys) == ["error"], "\(text)")
        return try #require(object["error"] as? String, "no error message: \(text)")
    }

    func entries() throws -> [AuditList.Entry] {
        try JSONDecoder().decode(AuditList.self, from: Data(text.utf8)).list
    }
}
