import Logging
import MongoAdapter

/// The audit operations on one connected pool: `audit.audit`, documents `{ts, calc, result}`.
public struct AuditStore: Sendable {
    public static let database = "audit"
    public static let collectionName = "audit"
    /// `{ts: -1}`, serving the newest-first sort of `list`. Not `{ts: -1, _id: -1}` to break
    /// ties: nx-27017 fails every later insert once an index names `_id` ("JSON path error near
    /// '_id'"). Ties cannot happen within one instance anyway (see `AppendClock`).
    public static let indexKeys: BSONDocument = ["ts": .int32(-1)]
    public static let indexName = "ts_-1"

    let collection: MongoCollection
    let logger: Logger

    public init(pool: MongoClientPool, logger: Logger) {
        self.collection = pool.collection(Self.collectionName, database: Self.database)
        self.logger = logger
    }

    /// Stores one calculation, stamped by `clock`; returns what was stored.
    public func append(_ request: AppendRequest, clock: AppendClock = .shared) async throws(MongoError) -> AuditEntry {
        let entry = AuditEntry(ts: clock.next(), calc: request.calc, result: request.calcResult)
        try await collection.insertOne(entry.document)
        return entry
    }

    /// The newest `limit` entries, newest first.
    public func list(limit: Int) async throws(MongoError) -> [AuditEntry] {
        let documents = try await collection.find(sort: Self.indexKeys, limit: limit, projection: ["_id": .int32(0)])
        return documents.compactMap { document in
            guard let entry = AuditEntry(document: document) else {
                logger.warning("skipping a malformed audit document", metadata: ["document": "\(document)"])
                return nil
            }
            return entry
        }
    }

    /// Creates the index. An existing identical index is fine (createIndexes is idempotent on
    /// mongod and nx-27017; nx-27017 stores it as its own single-field index on `ts`).
    public func createIndex() async throws(MongoError) {
        try await collection.createIndex(keys: Self.indexKeys, name: Self.indexName)
    }

    public func ping() async throws(MongoError) { try await collection.pool.ping() }
}
