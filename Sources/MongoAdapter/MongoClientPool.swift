import CMongoc
import NIOPosix

/// A libmongoc client pool for one URI. Every operation pops a client, runs its blocking driver
/// calls on `threads` (never on an event loop) and pushes the client back.
///
/// Ownership: this object owns the `mongoc_uri_t` and the `mongoc_client_pool_t` and destroys
/// them in `deinit`. Each operation keeps `self` alive until it returned its client, so the pool
/// is only destroyed when no client is out. A `mongoc_client_t` never leaves one operation.
/// After a lost connection the driver's topology monitor reconnects by itself: a pool built
/// once keeps working when the server comes back at the same address.
public final class MongoClientPool: @unchecked Sendable {
    // @unchecked: mongoc_client_pool_t is documented thread-safe (pop/push from any thread); the
    // stored pointers are never reassigned.
    public let uri: String
    private let parsedURI: OpaquePointer
    private let pool: OpaquePointer
    private let threads: NIOThreadPool

    public init(uri: String, threads: NIOThreadPool = .mongo) throws(MongoError) {
        _ = MongoDriver.initialized
        var error = bson_error_t()
        guard let parsed = mongoc_uri_new_with_error(uri, &error) else {
            throw MongoError(kind: .invalidArgument, message: "invalid MongoDB URI \(MongoURI.redacted(uri)): \(error.text)")
        }
        guard let pool = mongoc_client_pool_new(parsed) else {
            mongoc_uri_destroy(parsed)
            throw MongoError(kind: .invalidArgument, message: "could not create a client pool for \(MongoURI.redacted(uri))")
        }
        // Version 2 reports server-side errors in their own domain (MONGOC_ERROR_SERVER).
        mongoc_client_pool_set_error_api(pool, MONGOC_ERROR_API_VERSION_2)
        self.uri = uri
        self.parsedURI = parsed
        self.pool = pool
        self.threads = threads
    }

    /// The user name, password and authSource the driver parsed from the URI (for tests of how
    /// URIs are built); nil when the URI has none.
    var username: String? { mongoc_uri_get_username(parsedURI).map { String(cString: $0) } }
    var password: String? { mongoc_uri_get_password(parsedURI).map { String(cString: $0) } }
    var authSource: String? { mongoc_uri_get_auth_source(parsedURI).map { String(cString: $0) } }

    /// Destroying the pool ends its sessions on the server, which waits for server selection
    /// when the server is gone: a blocking call, so it runs on `threads`, not on whichever task
    /// or event loop released the last reference.
    deinit {
        let handles = Handles(pool: pool, uri: parsedURI)
        threads.submit { _ in
            mongoc_client_pool_destroy(handles.pool)
            mongoc_uri_destroy(handles.uri)
        }
    }

    /// The pointers handed to the destroying thread; nothing else holds them by then.
    private struct Handles: @unchecked Sendable {
        let pool: OpaquePointer
        let uri: OpaquePointer
    }

    /// Runs `body` with a client from the pool on the driver's thread pool.
    func withClient<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws(MongoError) -> T) async throws(MongoError) -> T {
        do {
            return try await threads.runIfActive { [self] in
                // pop blocks only while maxPoolSize (100) clients are out; there are 16 threads.
                guard let client = mongoc_client_pool_pop(pool) else {
                    throw MongoError(kind: .unavailable, message: "the client pool is closed")
                }
                defer { mongoc_client_pool_push(pool, client) }
                return try body(client)
            }
        } catch let error as MongoError {
            throw error
        } catch {
            throw MongoError(kind: .unavailable, message: "the MongoDB thread pool is not running (\(error))")
        }
    }

    /// Runs a read-only command (`ping`, `hello`, `listIndexes` …) and returns the reply.
    public func command(_ command: BSONDocument, database: String = "admin") async throws(MongoError) -> BSONDocument {
        try await withClient { client throws(MongoError) in
            let commandBSON = try OwnedBSON.converting(command)
            return try ReplyBSON.receive { reply, error in
                mongoc_client_command_simple(client, database, commandBSON.pointer, nil, reply, error)
            }
        }
    }

    /// Runs a command that writes (`createIndexes`, `drop` …) and returns the reply.
    public func writeCommand(_ command: BSONDocument, database: String) async throws(MongoError) -> BSONDocument {
        try await withClient { client throws(MongoError) in
            let commandBSON = try OwnedBSON.converting(command)
            return try ReplyBSON.receive { reply, error in
                mongoc_client_write_command_with_opts(client, database, commandBSON.pointer, nil, reply, error)
            }
        }
    }

    /// A round trip to a server: throws `.unavailable` after the server-selection timeout when
    /// none answers.
    public func ping() async throws(MongoError) {
        _ = try await command(["ping": .int32(1)])
    }

    public func collection(_ name: String, database: String) -> MongoCollection {
        MongoCollection(pool: self, database: database, name: name)
    }
}

extension OwnedBSON {
    static func converting(_ document: BSONDocument) throws(MongoError) -> OwnedBSON {
        do { return try OwnedBSON(document) } catch { throw MongoError(error) }
    }
}

/// Storage for a reply `bson_t` that libmongoc initialises itself (it calls `bson_init` on the
/// `reply` argument whether the call succeeds or not, so it must not be a `bson_new()` document).
enum ReplyBSON {
    static func receive(
        _ call: (OpaquePointer, UnsafeMutablePointer<bson_error_t>) -> Bool
    ) throws(MongoError) -> BSONDocument {
        // Swift cannot allocate a bson_t itself (see CMongoc/shim.h).
        let raw = UnsafeMutableRawPointer.allocate(byteCount: cmongoc_bson_size(), alignment: cmongoc_bson_alignment())
        defer { raw.deallocate() }
        let reply = OpaquePointer(raw)
        var error = bson_error_t()
        let succeeded = call(reply, &error)
        defer { bson_destroy(reply) }
        guard succeeded else { throw MongoError(error) }
        do { return try BSONBridge.decode(reply) } catch { throw MongoError(error) }
    }
}
