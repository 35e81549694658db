import Discovery
import Logging
import Synchronization

/// A Redis client that survives Redis restarts and moves: it holds one `RedisConnection`, and
/// after a connection error it resolves the endpoint anew (Redis may come back elsewhere),
/// reconnects once and retries the call once. If that reconnect fails too, the call throws a
/// `RedisError` with `isConnectionError == true`; the next call tries again.
///
/// A retried call may run twice on the server when the connection broke after Redis executed it
/// but before the reply arrived: make commands idempotent where that matters (the eventservice's
/// apply script is).
///
/// Calls share one connection and run one at a time. A blocking command (BLMOVE, BLPOP) holds
/// that connection for its whole timeout, so give blocking commands a `RedisClient` of their own,
/// with a `commandTimeout` longer than the blocking timeout.
///
/// With `credentials` every connection authenticates (AUTH) before it is used. A refusal throws
/// an `.authentication` error and is kept as `authenticationFailure` (for readiness checks) until
/// a connection is accepted again; the next call tries again.
public final class RedisClient: RedisCommanding, Sendable {
    /// Where Redis is now: asked again before every connect.
    public typealias Endpoint = @Sendable () async throws -> ServiceTarget

    private let slot: ConnectionSlot
    /// The slot's current connection, readable without a hop to the slot's actor: a command on a
    /// healthy connection (nearly every one) costs no task switch, which would cost more than the
    /// command's own work (bench/RESULTS.md, "Figures behind the code"). The slot stays the one place that connects and discards.
    private let current = Mutex<RedisConnection?>(nil)
    private let refusal = Mutex<RedisError?>(nil)

    public convenience init(endpoint: @escaping Endpoint, logger: Logger, credentials: Credentials? = nil) {
        self.init(endpoint: endpoint, logger: logger, connectTimeout: .seconds(2), commandTimeout: .seconds(5), credentials: credentials)
    }

    public init(
        endpoint: @escaping Endpoint, logger: Logger, connectTimeout: Duration, commandTimeout: Duration, credentials: Credentials? = nil
    ) {
        slot = ConnectionSlot(
            endpoint: endpoint, logger: logger, connectTimeout: connectTimeout, commandTimeout: commandTimeout, credentials: credentials
        )
    }

    /// Why Redis refused this client's credentials (or asked for some) on the latest attempt;
    /// nil once a connection was accepted. Costs no round trip.
    public var authenticationFailure: RedisError? { refusal.withLock { $0 } }

    public func command(_ arguments: [String]) async throws(RedisError) -> RedisValue {
        try await withReconnect { connection throws(RedisError) in try await connection.command(arguments) }
    }

    /// `RedisConnection.commandDiscardingReply` with reconnects.
    public func commandDiscardingReply(_ arguments: [String]) async throws(RedisError) {
        try await withReconnect { connection throws(RedisError) in try await connection.commandDiscardingReply(arguments) }
    }

    /// `RedisConnection.pipeline` with reconnects; for tests.
    func pipeline(_ commands: [[String]]) async throws(RedisError) -> [RedisValue] {
        try await withReconnect { connection throws(RedisError) in try await connection.pipeline(commands) }
    }

    /// Closes the current connection; a later call connects again.
    public func close() async {
        current.withLock { $0 = nil }
        await slot.discardAny()
    }

    private func withReconnect<T: Sendable>(
        _ body: (RedisConnection) async throws(RedisError) -> T
    ) async throws(RedisError) -> T {
        do throws(RedisError) {
            return try await reconnecting(body)
        } catch  where error.kind == .authentication {
            refusal.withLock { $0 = error }
            throw error
        }
    }

    private func reconnecting<T: Sendable>(
        _ body: (RedisConnection) async throws(RedisError) -> T
    ) async throws(RedisError) -> T {
        let (connection, isFresh) = try await connection()
        do throws(RedisError) {
            return try await body(connection)
        } catch  where error.isConnectionError && !isFresh {
            // The connection went stale (Redis restarted or moved): one reconnect, one retry.
            await discard(connection, because: error)
            let (fresh, _) = try await self.connection()
            return try await body(fresh)
        } catch  where error.isConnectionError {
            await discard(connection, because: error)
            throw error
        }
    }

    private func connection() async throws(RedisError) -> (RedisConnection, isFresh: Bool) {
        if let known = current.withLock({ $0 }) { return (known, false) }
        let (connection, isFresh) = try await slot.connection()
        current.withLock { $0 = connection }
        if isFresh { refusal.withLock { $0 = nil } }
        return (connection, isFresh)
    }

    private func discard(_ connection: RedisConnection, because error: RedisError) async {
        current.withLock { if $0 === connection { $0 = nil } }
        await slot.discard(connection, because: error)
    }
}

/// The client's current connection, and the one connect in progress that concurrent callers share.
private actor ConnectionSlot {
    private let endpoint: RedisClient.Endpoint
    private let logger: Logger
    private let connectTimeout: Duration
    private let commandTimeout: Duration
    private let credentials: Credentials?
    private var current: RedisConnection?
    private var connecting: Task<Result<RedisConnection, RedisError>, Never>?

    init(
        endpoint: @escaping RedisClient.Endpoint, logger: Logger, connectTimeout: Duration, commandTimeout: Duration,
        credentials: Credentials?
    ) {
        self.endpoint = endpoint
        self.logger = logger
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.credentials = credentials
    }

    /// The current connection, or a new one (`isFresh`) after resolving the endpoint.
    func connection() async throws(RedisError) -> (RedisConnection, isFresh: Bool) {
        if let current { return (current, false) }
        let task = connecting ?? startConnecting()
        connecting = task
        let result = await task.value
        if connecting == task { connecting = nil }
        let connection = try result.get()
        if current == nil { current = connection }
        return (connection, true)
    }

    func discard(_ connection: RedisConnection, because error: RedisError) {
        guard current === connection else { return }
        logger.warning("Redis connection to \(connection.host):\(connection.port) lost: \(error.message)")
        current = nil
        connection.close()
    }

    func discardAny() {
        current?.close()
        current = nil
    }

    private func startConnecting() -> Task<Result<RedisConnection, RedisError>, Never> {
        let endpoint = self.endpoint
        let logger = self.logger
        let (connectTimeout, commandTimeout, credentials) = (self.connectTimeout, self.commandTimeout, self.credentials)
        return Task {
            let target: ServiceTarget
            do {
                target = try await endpoint()
            } catch {
                return .failure(RedisError(.connection, "cannot find Redis: \(error)"))
            }
            do throws(RedisError) {
                let connection = try await RedisConnection.connect(
                    host: target.host, port: target.port, connectTimeout: connectTimeout, commandTimeout: commandTimeout,
                    credentials: credentials
                )
                logger.info("connected to Redis at \(target.host):\(target.port)\(credentials.map { " as \($0)" } ?? "")")
                return .success(connection)
            } catch {
                return .failure(error)
            }
        }
    }
}
