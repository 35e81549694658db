import Contracts
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import RedisAdapter

/// Where audit records that could not be delivered before shutdown wait for the next start: a
/// durable list, shared by every webapp (appends are idempotent on their id, so two webapps
/// delivering the same parked record store it once).
protocol AuditParking: Sendable {
    /// Stores the records (the `/append` bodies); throws when they could not be stored.
    func park(_ bodies: [String]) async throws
    /// Everything parked now, oldest first.
    func parked() async throws -> [String]
    /// Removes one delivered record.
    func remove(_ body: String) async throws
}

/// The parking list in Redis, `webapp:audit:pending`.
struct RedisAuditParking: AuditParking {
    static let listKey = "webapp:audit:pending"
    let client: RedisClient

    init(client: RedisClient) { self.client = client }

    func park(_ bodies: [String]) async throws {
        guard !bodies.isEmpty else { return }
        _ = try await client.command(["RPUSH", Self.listKey] + bodies)
    }

    func parked() async throws -> [String] {
        (try await client.command(["LRANGE", Self.listKey, "0", "-1"]).array ?? []).compactMap(\.string)
    }

    func remove(_ body: String) async throws {
        _ = try await client.command(["LREM", Self.listKey, "1", body])
    }
}

extension AuditAppend {
    /// The `/append` body.
    func json() throws -> String {
        String(decoding: try JSONEncoder().encode(self), as: UTF8.self)
    }

    init(json: String) throws {
        self = try JSONDecoder().decode(AuditAppend.self, from: Data(json.utf8))
    }
}
