import Contracts
import Logging
import MongoAdapter
import NIOCore
import NIOHTTP1
import ServiceRuntime

/// `POST /append`, `POST /append/batch` and `GET /list` (docs/design.md, "HTTP contracts",
/// auditservice).
struct AuditRoutes: Routes {
    let database: AuditDatabase
    init(database: AuditDatabase) {
        self.database = database
    }

    /// The contract's paths, matched and named by the same declaration.
    static let appendPath = RoutePath(AuditAppend.path)
    static let batchPath = RoutePath(AuditAppendBatch.path)
    static let listPath = RoutePath(AuditList.path)

    /// All wait on MongoDB, so all answer from a task. The runtime has read the body whole
    /// (413 over its limit) before `append` runs.
    func route(_ request: Request) -> Routing {
        switch request.segments {
        case Self.appendPath: .post(request, .task(Self.appendPath) { request in try await append(request) })
        case Self.batchPath: .post(request, .task(Self.batchPath) { request in try await appendBatch(request) })
        case Self.listPath: .get(request, .task(Self.listPath) { request in try await list(request) })
        default: .notFound
        }
    }

    func append(_ request: Request) async throws -> Response {
        let append = try Self.validated { () throws(InvalidAppendRequest) in try AuditAppend(body: request.body.readableBytesView) }
        let entry = try await usingDatabase(request) { store throws(MongoError) in try await store.append(append) }
        return Response.json(entry, status: .created)
    }

    /// Stores every valid record, concurrently; answers with the refused ones once all others
    /// are stored. A database failure fails the whole batch (503): a retry repeats nothing.
    func appendBatch(_ request: Request) async throws -> Response {
        let batch = try Self.validated { () throws(InvalidAppendRequest) in try ValidatedBatch(body: request.body.readableBytesView) }
        let appends = batch.records.map(\.append)
        try await usingDatabase(request) { store throws(MongoError) in try await store.append(all: appends) }
        return Response.json(AuditAppendBatch.Reply(refused: batch.refused))
    }

    func list(_ request: Request) async throws -> Response {
        let limit = try Self.listLimit(request.queryParameter("limit"))
        let entries = try await usingDatabase(request) { store throws(MongoError) in try await store.list(limit: limit) }
        return Response.json(AuditList(list: entries))
    }

    /// `limit`: absent → `AuditList.defaultLimit`; a positive base-10 integer, capped at
    /// `AuditList.maximumLimit`; anything else → 400.
    static func listLimit(_ text: String?) throws(APIError) -> Int {
        guard let text else { return AuditList.defaultLimit }
        let isDigits = !text.isEmpty && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        // All digits but too long for Int is still a positive integer: it is over the cap.
        guard isDigits, Int(text) ?? Int.max > 0 else {
            throw APIError(.badRequest, "limit must be a positive integer, got \"\(text.prefix(40))\"")
        }
        return min(Int(text) ?? Int.max, AuditList.maximumLimit)
    }

    /// A body the validation refuses is the client's mistake: 400 with its message.
    private static func validated<Body>(_ validate: () throws(InvalidAppendRequest) -> Body) throws(APIError) -> Body {
        do { return try validate() } catch { throw APIError(.badRequest, error.message) }
    }

    /// Runs a store operation, answering 503 when MongoDB cannot be reached.
    private func usingDatabase<T: Sendable>(
        _ request: Request, _ operation: (AuditStore) async throws(MongoError) -> T
    ) async throws(APIError) -> T {
        let store: AuditStore
        do { store = try database.store() } catch { throw APIError(.serviceUnavailable, error.message) }
        do {
            return try await operation(store)
        } catch  where error.isConnectionError {
            throw APIError(.serviceUnavailable, "MongoDB unavailable: \(error.message)")
        } catch {
            request.logger.error("MongoDB refused an operation", metadata: ["error": "\(error)"])
            throw APIError(.internalServerError, "the database refused the operation (request id \(request.id))")
        }
    }
}
