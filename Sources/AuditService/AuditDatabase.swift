import Logging
import Metrics
import MongoAdapter
import ServiceRuntime
import Synchronization

/// The connection to MongoDB, kept up by a background connector (`run()`).
///
/// The service starts without Mongo: until the first successful ping there is no store, requests
/// get `DatabaseUnavailable` (503) and `/readyz` fails. The connector then re-resolves Mongo
/// (DNS) every round, retries with capped exponential backoff while Mongo is away, builds a new
/// pool when Mongo's addresses changed, and (re)creates the `ts` index after each reconnect until
/// that succeeded once. When Mongo comes back at the same address the existing pool reconnects
/// by itself, so no rebuild is needed for that.
final class AuditDatabase: Sendable {
    struct Timing: Sendable {
        /// Between failed rounds while Mongo is away.
        var retry: Backoff
        /// How often a healthy connection is pinged and Mongo's addresses looked up again.
        var healthCheckInterval: Duration

        init(retry: Backoff = Backoff(initial: .milliseconds(200), maximum: .seconds(5)), healthCheckInterval: Duration = .seconds(2)) {
            self.retry = retry
            self.healthCheckInterval = healthCheckInterval
        }
    }

    struct Connection: Sendable {
        let store: AuditStore
        let targets: Set<MongoTarget>
    }

    struct State: Sendable {
        /// The connection requests use; nil until Mongo answered once.
        var connection: Connection?
        /// A connection to new addresses that has not answered yet.
        var pending: Connection?
        var reachable = false
        var indexCreated = false
        var lastProblem = "no connection attempt yet"
        var warnedBeforeFirstConnection = false
    }

    let locate: @Sendable () async throws -> [MongoTarget]
    /// Who the service is to MongoDB (its user in the `audit` database), or nil for a server
    /// without authentication (nx-27017 in the local environment and the tests).
    let credentials: MongoCredentials?
    let timing: Timing
    let logger: Logger
    let state = Mutex(State())
    /// 1 while MongoDB answers, 0 while it does not (on /metrics).
    let connectedGauge = Gauge(label: "auditservice_mongo_connected")

    /// - Parameter locate: where Mongo is now (discovery); called before every connection round.
    init(
        timing: Timing = Timing(), logger: Logger, credentials: MongoCredentials? = nil,
        locate: @escaping @Sendable () async throws -> [MongoTarget]
    ) {
        self.locate = locate
        self.credentials = credentials
        self.timing = timing
        self.logger = logger
        connectedGauge.record(0)
    }

    /// The store for one request; throws while no connection was ever made.
    func store() throws(DatabaseUnavailable) -> AuditStore {
        let (connection, problem) = state.withLock { ($0.connection, $0.lastProblem) }
        guard let connection else { throw DatabaseUnavailable("not connected to MongoDB yet (\(problem))") }
        return connection.store
    }

    /// For `/readyz`: a connection exists and Mongo answers a ping now.
    func checkReady() async throws(DatabaseUnavailable) {
        let store = try store()
        do { try await store.ping() } catch { throw DatabaseUnavailable(Self.problem(error)) }
    }

    /// The connector loop; returns when its task is cancelled.
    func run() async {
        var backoff = timing.retry
        while !Task.isCancelled {
            if await connectOrCheck() {
                backoff.reset()
                try? await Task.sleep(for: timing.healthCheckInterval)
            } else {
                try? await Task.sleep(for: backoff.next())
            }
        }
    }

    /// One round: look Mongo up, use a new pool when its addresses changed, ping, create the
    /// index if still missing. True when Mongo answered.
    func connectOrCheck() async -> Bool {
        let (current, pending) = state.withLock { ($0.connection, $0.pending) }
        var candidate = pending ?? current
        if let targets = await lookUp().map(Set.init), targets != candidate?.targets {
            if let current, current.targets == targets {
                candidate = current
            } else {
                do {
                    candidate = try makeConnection(targets)
                } catch {
                    record(problem: "cannot use MongoDB at \(targets): \(error.message)")
                    return false
                }
            }
        }
        guard let candidate else { return false }
        // A new pool is kept while it cannot reach Mongo yet: its monitor keeps trying, and a
        // fresh pool per round would start from scratch each time.
        if candidate.targets != current?.targets { state.withLock { $0.pending = candidate } }
        do {
            try await candidate.store.ping()
        } catch {
            record(problem: "\(Self.problem(error)) (at \(candidate.targets.map(\.description).sorted()))")
            return false
        }
        if adopt(candidate) { await createIndexIfMissing(candidate.store) }
        return true
    }

    /// Mongo's addresses now, or nil when discovery fails. A failed lookup is only a problem
    /// before the first connection: after it, the last known addresses stay in use (the
    /// resolver itself falls back to its last good answer too).
    private func lookUp() async -> [MongoTarget]? {
        let problem: String
        do {
            let targets = try await locate()
            if !targets.isEmpty { return targets }
            problem = "discovery found no MongoDB server"
        } catch {
            problem = "cannot find MongoDB: \(error)"
        }
        if state.withLock({ $0.connection == nil }) {
            record(problem: problem)
        } else {
            logger.debug("\(problem); keeping the last known address")
        }
        return nil
    }

    private func makeConnection(_ targets: Set<MongoTarget>) throws(MongoError) -> Connection {
        let ordered = targets.sorted { $0.description < $1.description }
        let pool = try MongoClientPool(uri: MongoURI.make(targets: ordered, appName: "auditservice", credentials: credentials))
        logger.info("using MongoDB at \(MongoURI.make(targets: ordered, options: []))\(credentials.map { " as \($0)" } ?? "")")
        return Connection(store: AuditStore(pool: pool, logger: logger), targets: targets)
    }

    /// Makes `connection` the one requests use; true when this is a (re)connection rather than
    /// one more healthy round.
    private func adopt(_ connection: Connection) -> Bool {
        let (wasReachable, replaced) = state.withLock { state in
            let before = (state.reachable, state.connection.map { $0.targets != connection.targets } ?? false)
            if before.1 { state.indexCreated = false }  // a new server may lack the index
            state.connection = connection
            state.pending = nil
            state.reachable = true
            return before
        }
        connectedGauge.record(1)
        if !wasReachable || replaced {
            logger.info("connected to MongoDB", metadata: ["targets": "\(connection.targets.map(\.description).sorted())"])
        }
        return !wasReachable || replaced
    }

    /// What a failed ping says about MongoDB: refused credentials are named as such (a wrong
    /// Secret, mended only by a deployment), anything else is MongoDB being away.
    static func problem(_ error: MongoError) -> String {
        error.kind == .authentication ? "MongoDB authentication failed: \(error.message)" : "MongoDB unreachable: \(error.message)"
    }

    private func record(problem: String) {
        connectedGauge.record(0)
        let isNews = state.withLock { state in
            defer {
                state.reachable = false
                state.lastProblem = problem
            }
            if state.reachable { return true }
            guard state.connection == nil, !state.warnedBeforeFirstConnection else { return false }
            state.warnedBeforeFirstConnection = true
            return true
        }
        // One warning per outage (and one before the first connection); retries log at debug level.
        if isNews { logger.warning("\(problem); retrying") } else { logger.debug("\(problem)") }
    }

    private func createIndexIfMissing(_ store: AuditStore) async {
        guard !state.withLock({ $0.indexCreated }) else { return }
        do {
            try await store.createIndex()
            state.withLock { $0.indexCreated = true }
            logger.info("index \(AuditStore.indexName) on \(AuditStore.database).\(AuditStore.collectionName) is in place")
        } catch {
            // Retried after the next reconnect; appends and lists work without the index.
            logger.warning("could not create index \(AuditStore.indexName): \(error.message)")
        }
    }
}

/// MongoDB cannot be used now; the client gets a 503 with this message.
struct DatabaseUnavailable: Error, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
