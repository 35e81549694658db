import CMongoc

/// One collection, reached through a pool. A value type holding only names and the pool: the
/// `mongoc_collection_t` handle lives for the span of one operation.
public struct MongoCollection: Sendable {
    public let pool: MongoClientPool
    public let database: String
    public let name: String

    /// Inserts one document (the driver adds an `_id` when it has none). A single-document insert
    /// is atomic on the server: it is stored whole or not at all.
    public func insertOne(_ document: BSONDocument) async throws(MongoError) {
        try await withCollection { collection throws(MongoError) in
            let bson = try OwnedBSON.converting(document)
            var error = bson_error_t()
            guard mongoc_collection_insert_one(collection, bson.pointer, nil, nil, &error) else { throw MongoError(error) }
        }
    }

    /// Documents matching `filter`, in `sort` order, at most `limit` (nil: no limit).
    public func find(
        _ filter: BSONDocument = [:], sort: BSONDocument? = nil, limit: Int? = nil, projection: BSONDocument? = nil
    ) async throws(MongoError) -> [BSONDocument] {
        var options = BSONDocument()
        if let sort { options.append("sort", .document(sort)) }
        if let limit { options.append("limit", .int64(Int64(limit))) }
        if let projection { options.append("projection", .document(projection)) }
        return try await withCollection { [options] collection throws(MongoError) in
            let filterBSON = try OwnedBSON.converting(filter)
            let optionsBSON = try OwnedBSON.converting(options)
            guard let cursor = mongoc_collection_find_with_opts(collection, filterBSON.pointer, optionsBSON.pointer, nil) else {
                throw MongoError(kind: .invalidArgument, message: "could not create a cursor on \(database).\(name)")
            }
            defer { mongoc_cursor_destroy(cursor) }
            return try Self.drain(cursor)
        }
    }

    /// Creates an index (`createIndexes`); succeeds too when the same index already exists.
    @discardableResult
    public func createIndex(keys: BSONDocument, name indexName: String) async throws(MongoError) -> BSONDocument {
        let command: BSONDocument = [
            "createIndexes": .string(name),
            "indexes": .array([.document(["key": .document(keys), "name": .string(indexName)])]),
        ]
        return try await pool.writeCommand(command, database: database)
    }

    private static func drain(_ cursor: OpaquePointer) throws(MongoError) -> [BSONDocument] {
        var documents: [BSONDocument] = []
        // `current` points into the cursor's buffer and is valid only until the next call.
        var current: OpaquePointer?
        while mongoc_cursor_next(cursor, &current) {
            guard let current else { continue }
            do { documents.append(try BSONBridge.decode(current)) } catch { throw MongoError(error) }
        }
        var error = bson_error_t()
        if mongoc_cursor_error(cursor, &error) { throw MongoError(error) }
        return documents
    }

    private func withCollection<T: Sendable>(
        _ body: @escaping @Sendable (OpaquePointer) throws(MongoError) -> T
    ) async throws(MongoError) -> T {
        try await pool.withClient { [database, name] client throws(MongoError) in
            guard let collection = mongoc_client_get_collection(client, database, name) else {
                throw MongoError(kind: .invalidArgument, message: "no collection \(database).\(name)")
            }
            defer { mongoc_collection_destroy(collection) }
            return try body(collection)
        }
    }
}
