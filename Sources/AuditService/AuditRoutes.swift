import Hummingbird
import Logging
import MongoAdapter
import ServiceRuntime

/// `POST /append` and `GET /list` (DESIGN "HTTP contracts", auditservice).
public struct AuditRoutes: Sendable {
    public static let defaultListLimit = 10
    public static let maximumListLimit = 100

    let database: AuditDatabase
    /// Largest body read; ServiceRuntime's body limit refuses larger declared bodies first.
    let maxBodySize: Int

    public init(database: AuditDatabase, maxBodySize: Int) {
        self.database = database
        self.maxBodySize = maxBodySize
    }

    public func add(to router: Router<BasicRequestContext>) {
        router.post("/append") { request, context in try await append(request, context: context) }
        router.get("/list") { request, context in try await list(request, context: context) }
    }

    func append(_ request: Request, context: BasicRequestContext) async throws -> Response {
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxBodySize)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "request body over \(maxBodySize) bytes")
        }
        let append: AppendRequest
        do {
            append = try AppendRequest(body: body.readableBytesView)
        } catch {
            throw APIError(.badRequest, error.message)
        }
        let entry = try await usingDatabase(context) { store throws(MongoError) in try await store.append(append) }
        return Response.json(entry, status: .created)
    }

    func list(_ request: Request, context: BasicRequestContext) async throws -> Response {
        let limit = try Self.listLimit(request.uri.queryParameters.get("limit"))
        let entries = try await usingDatabase(context) { store throws(MongoError) in try await store.list(limit: limit) }
        return Response.json(AuditList(list: entries))
    }

    /// `limit`: absent → 10; a positive base-10 integer, capped at 100; anything else → 400.
    static func listLimit(_ text: String?) throws(APIError) -> Int {
        guard let text else { return defaultListLimit }
        let isDigits = !text.isEmpty && text.utf8.allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }
        // All digits but too long for Int is still a positive integer: it is over the cap.
        guard isDigits, Int(text) ?? Int.max > 0 else {
            throw APIError(.badRequest, "limit must be a positive integer, got \"\(text.prefix(40))\"")
        }
        return min(Int(text) ?? Int.max, maximumListLimit)
    }

    /// Runs a store operation, answering 503 when MongoDB cannot be reached.
    private func usingDatabase<T: Sendable>(
        _ context: BasicRequestContext, _ operation: (AuditStore) async throws(MongoError) -> T
    ) async throws(APIError) -> T {
        let store: AuditStore
        do { store = try database.store() } catch { throw APIError(.serviceUnavailable, error.message) }
        do {
            return try await operation(store)
        } catch where error.isConnectionError {
            throw APIError(.serviceUnavailable, "MongoDB unavailable: \(error.message)")
        } catch {
            context.logger.error("MongoDB refused an operation", metadata: ["error": "\(error)"])
            throw APIError(.internalServerError, "the database refused the operation (request id \(context.id))")
        }
    }
}
