import Discovery
import Foundation
import MongoAdapter
import TestSupport
import Testing

/// Against a real MongoDB-wire server (nx-27017 0.8.1) on a free loopback port.
///
/// nx-27017's differences from mongod that this project works around or relies on:
/// - a second server refuses to start with the default pid file (/tmp/nx_27017.pid): each
///   test server gets its own `--pid-file`/`--log-file` (Tests/TestSupport/Servers.swift);
/// - it answers `{ok: 1}` to commands it does not know (no CommandNotFound);
/// - an int64 that fits in 32 bits comes back as an int32 (readers use `int64Value`);
/// - createIndexes stores its own single-field index (`idx_<coll>_<field>`, ascending) whatever
///   name and direction were asked for, and accepts a conflicting spec under an existing name;
/// - after an index that names `_id` (`{ts: -1, _id: -1}`) every insert fails with "JSON path
///   error near '_id'", so auditservice only creates `{ts: -1}`.
@Suite("libmongoc against nx-27017", .stopsServers)
struct MongoServerTests {
    let server: ServerProcess
    let pool: MongoClientPool

    init() async throws {
        server = try await MongoServer.start()
        pool = try MongoClientPool(uri: MongoURI.make(targets: [ServiceTarget(host: "127.0.0.1", port: server.port)]))
    }

    @Test("ping and hello answer")
    func pingAndHello() async throws {
        try await pool.ping()
        let hello = try await pool.command(["hello": .int32(1)])
        #expect(hello["ok"].map { $0 == .double(1) || $0.int64Value == 1 } == true)
    }

    @Test("inserted documents come back sorted, limited and projected, with Int64 values")
    func insertAndFind() async throws {
        let collection = pool.collection("c\(UUID().uuidString.prefix(8))", database: "adaptertest")
        for ts in [Int64(3), 1, 5, 2, 4] {
            try await collection.insertOne(["ts": .int64(1_700_000_000_000 + ts), "calc": .string("\(ts)+0"), "result": .int64(ts)])
        }
        let found = try await collection.find(sort: ["ts": .int32(-1)], limit: 3, projection: ["_id": .int32(0)])
        #expect(found.map { $0["result"]?.int64Value } == [5, 4, 3])
        #expect(found.map { $0["calc"]?.stringValue } == ["5+0", "4+0", "3+0"])
        #expect(found.allSatisfy { $0["_id"] == nil })
        let all = try await collection.find()
        #expect(all.count == 5)
    }

    @Test("createIndexes succeeds, and again when the index exists")
    func createIndexTwice() async throws {
        let collection = pool.collection("idx\(UUID().uuidString.prefix(8))", database: "adaptertest")
        try await collection.insertOne(["ts": .int64(1)])
        try await collection.createIndex(keys: ["ts": .int32(-1)], name: "ts_-1")
        try await collection.createIndex(keys: ["ts": .int32(-1)], name: "ts_-1")
        let indexes = try await pool.command(["listIndexes": .string(collection.name)], database: "adaptertest")
        #expect("\(indexes)".contains("ts"))
    }

    @Test("a refused write (duplicate _id) is a server error with code 11000, not a connection error")
    func serverError() async throws {
        // Not an unknown command: nx-27017 answers {ok: 1} to commands it does not know.
        let collection = pool.collection("dup\(UUID().uuidString.prefix(8))", database: "adaptertest")
        try await collection.insertOne(["_id": .int32(1)])
        do {
            try await collection.insertOne(["_id": .int32(1)])
            Issue.record("duplicate _id accepted")
        } catch {
            #expect(error.kind == .server, "\(error)")
            #expect(error.code == 11000, "\(error)")
            #expect(!error.isConnectionError)
        }
    }

    @Test("server stopped: a quick connection error; restarted on the same port: the same pool works again")
    func serverRestart() async throws {
        try await pool.ping()
        await server.stop()
        await #expect(throws: MongoError.self) { try await pool.ping() }  // may be the broken socket
        let started = ContinuousClock.now
        do {
            try await pool.ping()
            Issue.record("ping succeeded with the server stopped")
        } catch {
            #expect(error.isConnectionError, "\(error)")
        }
        // 1.5 s server selection; generous because the test machine is loaded. libmongoc's
        // defaults (30 s selection, 5 min socket timeout) would blow this bound.
        #expect(ContinuousClock.now - started < .seconds(10), "a dead server must not hang callers")
        try await server.restart()
        try await eventually { try await pool.ping() }
        let collection = pool.collection("after", database: "adaptertest")
        try await collection.insertOne(["ok": .bool(true)])
    }

    @Test("no server at all: unavailable within the server-selection timeout")
    func noServer() async throws {
        let nobody = try MongoClientPool(uri: MongoURI.make(targets: [ServiceTarget(host: "127.0.0.1", port: Ports.free())]))
        let started = ContinuousClock.now
        do {
            try await nobody.collection("x", database: "y").insertOne(["a": .int32(1)])
            Issue.record("insert without a server succeeded")
        } catch {
            #expect(error.kind == .unavailable, "\(error)")
        }
        #expect(ContinuousClock.now - started < .seconds(10), "1.5 s server selection, loaded machine")
    }
}

/// Retries `body` until it succeeds or `timeout` passes (then rethrows its last error).
func eventually(timeout: Duration = .seconds(10), _ body: () async throws -> Void) async throws {
    let deadline = ContinuousClock.now + timeout
    while true {
        do { return try await body() } catch {
            if ContinuousClock.now > deadline { throw error }
            try await Task.sleep(for: .milliseconds(100))
        }
    }
}
