import Contracts
import Logging
import MongoAdapter

/// The audit operations on one connected pool: `audit.audit`, documents `{ts, calc, result}`.
struct AuditStore: Sendable {
    static let database = "audit"
    static let collectionName = "audit"
    /// `{ts: -1}`, serving the newest-first sort of `list`. Not `{ts: -1, _id: -1}` to break
    /// ties: nx-27017 fails every later insert once an index names `_id` ("JSON path error near
    /// '_id'"). Ties cannot happen within one instance anyway (see `AppendClock`).
    static let indexKeys: BSONDocument = ["ts": .int32(-1)]
    static let indexName = "ts_-1"

    let collection: MongoCollection
    let logger: Logger

    init(pool: MongoClientPool, logger: Logger) {
        self.collection = pool.collection(Self.collectionName, database: Self.database)
        self.logger = logger
    }

    /// Stores one calculation, stamped by `clock`; returns what was stored. With an id the
    /// append is idempotent: the id is the document's `_id` (unique in MongoDB and in
    /// nx-27017 alike, no index of ours needed), and a second append with it stores nothing and
    /// returns the record stored the first time.
    func append(_ request: AuditAppend, clock: AppendClock = .shared) async throws(MongoError) -> AuditList.Entry {
        let entry = AuditList.Entry(ts: clock.next(), calc: request.calc, result: request.result)
        var document = entry.document
        if let id = request.id { document = BSONDocument([(key: "_id", value: .string(id))] + document.elements) }
        do throws(MongoError) {
            try await collection.insertOne(document)
            return entry
        } catch  where error.isDuplicateKey {
            guard let id = request.id else { throw error }
            return try await stored(id: id) ?? entry
        }
    }

    /// Stores each calculation as `append(_:)` does, all at once; returns when every one is
    /// stored, or throws the first failure (some may be stored: a retry with the same ids repeats
    /// nothing).
    func append(all appends: [AuditAppend]) async throws(MongoError) {
        let failure = await withTaskGroup(of: MongoError?.self, returning: MongoError?.self) { group in
            for append in appends {
                group.addTask {
                    do throws(MongoError) {
                        _ = try await self.append(append)
                        return nil
                    } catch { return error }
                }
            }
            for await case let failure? in group { return failure }
            return nil
        }
        if let failure { throw failure }
    }

    /// The record stored under `id`, if any.
    func stored(id: String) async throws(MongoError) -> AuditList.Entry? {
        let documents = try await collection.find(["_id": .string(id)], limit: 1, projection: ["_id": .int32(0)])
        return documents.first.flatMap(AuditList.Entry.init(document:))
    }

    /// The newest `limit` entries, newest first.
    func list(limit: Int) async throws(MongoError) -> [AuditList.Entry] {
        let documents = try await collection.find(sort: Self.indexKeys, limit: limit, projection: ["_id": .int32(0)])
        return documents.compactMap { document in
            guard let entry = AuditList.Entry(document: document) else {
                logger.warning("skipping a malformed audit document", metadata: ["document": "\(document)"])
                return nil
            }
            return entry
        }
    }

    /// Creates the index. An existing identical index is fine (createIndexes is idempotent on
    /// mongod and nx-27017; nx-27017 stores it as its own single-field index on `ts`).
    func createIndex() async throws(MongoError) {
        try await collection.createIndex(keys: Self.indexKeys, name: Self.indexName)
    }

    func ping() async throws(MongoError) { try await collection.pool.ping() }
}
