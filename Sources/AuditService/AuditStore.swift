import Foundation
import Logging
import MongoAdapter

/// The audit operations on one connected pool: `audit.audit`, documents `{ts, calc, result}`.
public struct AuditStore: Sendable {
    public static let database = "audit"
    public static let collectionName = "audit"
    public static let indexName = "ts_-1"

    let collection: MongoCollection
    let logger: Logger

    public init(pool: MongoClientPool, logger: Logger) {
        self.collection = pool.collection(Self.collectionName, database: Self.database)
        self.logger = logger
    }

    /// Stores one calculation, stamped with the current time; returns what was stored.
    public func append(_ request: AppendRequest, now: Date = Date()) async throws(MongoError) -> AuditEntry {
        let entry = AuditEntry(ts: Int64((now.timeIntervalSince1970 * 1000).rounded(.down)), calc: request.calc, result: request.calcResult)
        try await collection.insertOne(entry.document)
        return entry
    }

    /// The newest `limit` entries, newest first. Entries stored in the same millisecond come in
    /// the order they were stored (the driver's ObjectIds grow within a process).
    public func list(limit: Int) async throws(MongoError) -> [AuditEntry] {
        let documents = try await collection.find(sort: ["ts": .int32(-1), "_id": .int32(-1)], limit: limit)
        return documents.compactMap { document in
            guard let entry = AuditEntry(document: document) else {
                logger.warning("skipping a malformed audit document", metadata: ["document": "\(document)"])
                return nil
            }
            return entry
        }
    }

    /// Creates the `{ts: -1}` index. An existing identical index is fine (createIndexes is
    /// idempotent on mongod and nx-27017).
    public func createIndex() async throws(MongoError) {
        try await collection.createIndex(keys: ["ts": .int32(-1)], name: Self.indexName)
    }

    public func ping() async throws(MongoError) { try await collection.pool.ping() }
}
