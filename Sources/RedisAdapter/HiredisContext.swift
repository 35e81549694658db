import CHiredis
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// A hiredis blocking context. Every call blocks the calling thread, so callers run it on the
/// connection's own thread (see `RedisConnection`), which is also the only thread that frees it
/// (`redisFree` closes the socket). No other thread ever touches the socket: a blocked call
/// ends by the socket's own timeouts (`redisSetTimeout`), never by a shutdown from elsewhere,
/// which could hit a descriptor number already closed and reused by an unrelated socket.
/// The lock keeps one call at a time on the context.
final class HiredisContext: @unchecked Sendable {
    // @unchecked: `pointer` is only read or written while `lock` is held.
    private let lock = NIOLock()
    private var pointer: UnsafeMutablePointer<redisContext>?

    private init(pointer: UnsafeMutablePointer<redisContext>) {
        self.pointer = pointer
    }

    /// Connects (blocking) with `connectTimeout`, then sets `commandTimeout` for reads and writes.
    static func connect(host: String, port: Int, connectTimeout: Duration, commandTimeout: Duration) throws(RedisError)
        -> HiredisContext
    {
        _ = ignoreBrokenPipes
        guard let pointer = redisConnectWithTimeout(host, Int32(port), makeTimeval(connectTimeout)) else {
            throw RedisError(.connection, "cannot allocate a hiredis context for \(host):\(port)")
        }
        if pointer.pointee.err != 0 {
            let message = errorText(pointer)
            redisFree(pointer)
            throw RedisError(.connection, "connect to \(host):\(port) failed: \(message)")
        }
        let context = HiredisContext(pointer: pointer)
        try context.setTimeout(commandTimeout)
        return context
    }

    /// hiredis writes with write(2): when Redis has closed the connection (a restart) that raises
    /// SIGPIPE, which would kill the whole process. Ignored once per process, as hiredis advises;
    /// the write then fails with EPIPE and surfaces as a connection error.
    private static let ignoreBrokenPipes: Void = {
        signal(SIGPIPE, SIG_IGN)
    }()

    func setTimeout(_ timeout: Duration) throws(RedisError) {
        try withContext { context throws(RedisError) in
            if redisSetTimeout(context, Self.makeTimeval(timeout)) != REDIS_OK {
                throw RedisError(.connection, "setting the timeout failed: \(Self.errorText(context))")
            }
        }
    }

    /// One command, one round trip. Arguments are passed with their lengths: binary safe.
    func command(_ arguments: [String]) throws(RedisError) -> RedisValue {
        try withContext { context throws(RedisError) in
            let raw = try ArgumentVector.with(arguments) { argc, argv, lengths in
                redisCommandArgv(context, argc, argv, lengths)
            }
            guard let raw else { throw Self.connectionError(context) }
            defer { freeReplyObject(raw) }
            return ReplyDecoder.value(raw.assumingMemoryBound(to: redisReply.self))
        }
    }

    /// Runs `arguments` with its reply switched off (CLIENT REPLY OFF, the command, CLIENT REPLY
    /// ON, in one write; only the last answers): whatever the command returns never crosses the
    /// socket. For a blocking command whose reply may be of any size (BLMOVE of a message) when
    /// only its completion matters. Returns once Redis has run it (or its block timed out).
    func commandDiscardingReply(_ arguments: [String]) throws(RedisError) {
        let commands = [["CLIENT", "REPLY", "OFF"], arguments, ["CLIENT", "REPLY", "ON"]]
        if case .error(let message)? = try pipeline(commands, replies: 1).first { throw RedisError(.reply, message) }
    }

    /// Every command appended to the output buffer, then `replies` replies (one per command
    /// unless some are switched off) read: one round trip.
    func pipeline(_ commands: [[String]], replies: Int? = nil) throws(RedisError) -> [RedisValue] {
        try withContext { context throws(RedisError) in
            for arguments in commands {
                let status = try ArgumentVector.with(arguments) { argc, argv, lengths in
                    redisAppendCommandArgv(context, argc, argv, lengths)
                }
                if status != REDIS_OK { throw Self.connectionError(context) }
            }
            var values: [RedisValue] = []
            values.reserveCapacity(replies ?? commands.count)
            for _ in 0..<(replies ?? commands.count) {
                var raw: UnsafeMutableRawPointer?
                guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw Self.connectionError(context) }
                values.append(ReplyDecoder.value(raw.assumingMemoryBound(to: redisReply.self)))
                freeReplyObject(raw)
            }
            return values
        }
    }

    /// Frees the context and closes its socket; later calls fail with a connection error.
    /// Called on the connection's own thread only.
    func free() {
        lock.withLock {
            if let pointer { redisFree(pointer) }
            pointer = nil
        }
    }

    private func withContext<T>(_ body: (UnsafeMutablePointer<redisContext>) throws(RedisError) -> T) throws(RedisError) -> T {
        lock.lock()
        defer { lock.unlock() }
        guard let pointer else { throw RedisError(.connection, "the connection is closed") }
        // hiredis marks a context unusable after an I/O or protocol error.
        if pointer.pointee.err != 0 { throw Self.connectionError(pointer) }
        return try body(pointer)
    }

    private static func connectionError(_ context: UnsafeMutablePointer<redisContext>) -> RedisError {
        RedisError(.connection, context.pointee.err == 0 ? "no reply" : errorText(context))
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { bytes in
            let text = bytes.prefix { $0 != 0 }
            return String(decoding: text, as: UTF8.self)
        }
    }

    private static func makeTimeval(_ duration: Duration) -> timeval {
        let (seconds, attoseconds) = duration.components
        return Glibc.timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}

/// Builds hiredis' `argc/argv/argvlen` from Swift strings, with every argument's UTF-8 bytes in
/// one buffer: lengths are explicit, so NUL bytes and CRLF pass through unchanged.
enum ArgumentVector {
    static func with<T>(
        _ arguments: [String],
        _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> T
    ) throws(RedisError) -> T {
        guard !arguments.isEmpty else { throw RedisError(.usage, "empty command") }
        var bytes: [UInt8] = []
        var lengths: [Int] = []
        lengths.reserveCapacity(arguments.count)
        for argument in arguments {
            let utf8 = argument.utf8
            lengths.append(utf8.count)
            bytes.append(contentsOf: utf8)
        }
        bytes.append(0)  // never empty, so the buffer has a base address even for "" arguments
        return bytes.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress.unsafelyUnwrapped).assumingMemoryBound(to: CChar.self)
            var offset = 0
            var pointers: [UnsafePointer<CChar>?] = lengths.map { length in
                defer { offset += length }
                return base + offset
            }
            return pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { argvlen in
                    body(Int32(arguments.count), argv.baseAddress.unsafelyUnwrapped, argvlen.baseAddress.unsafelyUnwrapped)
                }
            }
        }
    }
}

/// hiredis reply trees to `RedisValue`.
enum ReplyDecoder {
    static func value(_ reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let reply = reply.pointee
        switch reply.type {
        case REDIS_REPLY_STRING: return .bulk(text(reply))
        case REDIS_REPLY_STATUS: return .status(text(reply))
        case REDIS_REPLY_ERROR: return .error(text(reply))
        case REDIS_REPLY_INTEGER: return .integer(Int64(reply.integer))
        case REDIS_REPLY_ARRAY:
            return .array((0..<reply.elements).map { index in
                guard let element = reply.element[index] else { return .null }
                return value(element)
            })
        default: return .null
        }
    }

    private static func text(_ reply: redisReply) -> String {
        guard let bytes = reply.str else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: bytes, count: reply.len), as: UTF8.self)
    }
}
