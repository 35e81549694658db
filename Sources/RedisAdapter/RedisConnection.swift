import Discovery
import NIOPosix
import Synchronization

/// Something that runs Redis commands: a single `RedisConnection` or a reconnecting `RedisClient`.
public protocol RedisCommanding: Sendable {
    /// Runs one command. An error reply throws `RedisError` with kind `.reply`.
    func command(_ arguments: [String]) async throws(RedisError) -> RedisValue
}

/// One connection to Redis: one hiredis context, driven by a thread of its own.
///
/// hiredis is blocking, so every call runs on this connection's dedicated thread, never on an
/// event loop or the shared thread pool: a blocking command (BLMOVE, BLPOP with a timeout) then
/// holds only its own thread. Calls on one connection run one at a time, in order.
///
/// Blocking commands need a connection (or `RedisClient`) of their own, and the command timeout
/// given to `connect` must be longer than the blocking command's own timeout: a read that times
/// out breaks the connection.
///
/// The socket has one owner: this connection's thread opens it, runs every call on it and closes
/// it (`close` queues the close behind the calls already waiting). Every call is bounded by the
/// command timeout on the socket, so a close waits at most that long for a call in flight.
public final class RedisConnection: RedisCommanding, Sendable {
    private let context: HiredisContext
    private let thread: NIOThreadPool
    private let closed = Atomic<Bool>(false)
    public let host: String
    public let port: Int

    private init(context: HiredisContext, thread: NIOThreadPool, host: String, port: Int) {
        self.context = context
        self.thread = thread
        self.host = host
        self.port = port
    }

    deinit { close() }

    /// Connects within `connectTimeout`, then authenticates as `credentials` when given (AUTH);
    /// each command then may take up to `commandTimeout`.
    public static func connect(
        host: String, port: Int, connectTimeout: Duration, commandTimeout: Duration, credentials: Credentials? = nil
    ) async throws(RedisError) -> RedisConnection {
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        do throws(RedisError) {
            let context = try await run(on: thread) { () throws(RedisError) in
                try HiredisContext.connect(
                    host: host, port: port, connectTimeout: connectTimeout, commandTimeout: commandTimeout, credentials: credentials
                )
            }
            return RedisConnection(context: context, thread: thread, host: host, port: port)
        } catch {
            thread.shutdownGracefully { _ in }
            throw error
        }
    }

    public func command(_ arguments: [String]) async throws(RedisError) -> RedisValue {
        if closed.load(ordering: .acquiring) { throw RedisError(.connection, "the connection is closed") }
        let context = self.context
        let value = try await Self.run(on: thread) { () throws(RedisError) in try context.command(arguments) }
        if case .error(let message) = value { throw RedisError.reply(message) }
        return value
    }

    /// Runs `arguments` without reading its reply: Redis is told not to send it (CLIENT REPLY
    /// OFF … ON). For a blocking command whose reply may be of any size, such as BLMOVE of a
    /// queue message, when only its completion matters: memory stays bounded whatever it moved.
    /// An error reply is not seen either; the next command on that key shows it.
    public func commandDiscardingReply(_ arguments: [String]) async throws(RedisError) {
        if closed.load(ordering: .acquiring) { throw RedisError(.connection, "the connection is closed") }
        let context = self.context
        try await Self.run(on: thread) { () throws(RedisError) in try context.commandDiscardingReply(arguments) }
    }

    /// Runs the commands in one round trip. Error replies come back as `.error` values in place,
    /// so the other replies are not lost; only a connection failure throws. (The services send
    /// one command per round trip; tests use this to set Redis up.)
    func pipeline(_ commands: [[String]]) async throws(RedisError) -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        let context = self.context
        return try await Self.run(on: thread) { () throws(RedisError) in try context.pipeline(commands) }
    }

    /// Closes the connection, once however often it is called: on the connection's own thread,
    /// after the calls already queued there have finished (each within the command timeout).
    /// Calls made after `close` fail with a connection error.
    public func close() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let context = self.context
        let thread = self.thread
        thread.submit { _ in
            context.free()
            thread.shutdownGracefully { _ in }
        }
    }

    private static func run<T: Sendable>(
        on thread: NIOThreadPool, _ body: @escaping @Sendable () throws(RedisError) -> T
    ) async throws(RedisError) -> T {
        let result: Result<T, RedisError>
        do {
            result = try await thread.runIfActive { Result { () throws(RedisError) in try body() } }
        } catch {
            // The thread is gone (closed) or the task was cancelled before the call ran.
            throw RedisError(.connection, "the connection is closed")
        }
        return try result.get()
    }
}
