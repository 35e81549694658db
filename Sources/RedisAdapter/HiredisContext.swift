import CHiredis
import Discovery
import Platform
import Synchronization

/// A hiredis blocking context. Every call blocks the calling thread, so callers run it on the
/// connection's own thread (see `RedisConnection`), which is also the only thread that frees it
/// (`redisFree` closes the socket). No other thread ever touches the socket: a blocked call
/// ends by the socket's own timeouts (`redisSetTimeout`), never by a shutdown from elsewhere,
/// which could hit a descriptor number already closed and reused by an unrelated socket.
/// The mutex keeps one call at a time on the context.
final class HiredisContext: Sendable {
    /// nil once freed.
    private let pointer: Mutex<UnsafeMutablePointer<redisContext>?>

    private init(pointer: sending UnsafeMutablePointer<redisContext>) {
        self.pointer = Mutex(pointer)
    }

    /// Connects (blocking) with `connectTimeout`, then sets `commandTimeout` for reads and writes,
    /// then authenticates as `credentials` (AUTH): a connection is handed out only once Redis
    /// has accepted its user, and a refusal is an `.authentication` error, not a broken connection.
    static func connect(
        host: String, port: Int, connectTimeout: Duration, commandTimeout: Duration, credentials: Credentials? = nil
    ) throws(RedisError) -> HiredisContext {
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
        do throws(RedisError) {
            try context.setTimeout(commandTimeout)
            if let credentials { try context.authenticate(credentials) }
        } catch {
            context.free()
            throw error
        }
        return context
    }

    /// AUTH <username> <password> (Redis 6 ACL users). The password is never part of a message.
    private func authenticate(_ credentials: Credentials) throws(RedisError) {
        if case .error(let message) = try command(["AUTH", credentials.username, credentials.password]) {
            throw RedisError(.authentication, "Redis refused \(credentials): \(message)")
        }
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

    /// One command, one round trip. Arguments are sent with their lengths: binary safe.
    func command(_ arguments: [String]) throws(RedisError) -> RedisValue {
        try pipeline([arguments])[0]
    }

    /// Runs `arguments` with its reply switched off (CLIENT REPLY OFF, the command, CLIENT REPLY
    /// ON, in one write; only the last answers): whatever the command returns never crosses the
    /// socket. For a blocking command whose reply may be of any size (BLMOVE of a message) when
    /// only its completion matters. Returns once Redis has run it (or its block timed out).
    func commandDiscardingReply(_ arguments: [String]) throws(RedisError) {
        let commands = [["CLIENT", "REPLY", "OFF"], arguments, ["CLIENT", "REPLY", "ON"]]
        if case .error(let message)? = try pipeline(commands, replies: 1).first {
            // With replies off even errors are silent, so an error here is CLIENT REPLY OFF's own
            // (refused by the user's ACL, say): the command and CLIENT REPLY ON answer as well,
            // and their replies would be read as the next commands' answers. The connection is
            // out of step: it is marked unusable (as hiredis marks one after a protocol error) and
            // the failure is a connection error, so a client gives it up and connects anew.
            try withContext { context throws(RedisError) in context.pointee.err = REDIS_ERR_OTHER }
            throw RedisError(.connection, "CLIENT REPLY OFF failed, the connection is out of step: \(message)")
        }
    }

    /// Every command appended to the output buffer, then `replies` replies (one per command
    /// unless some are switched off) read: one round trip.
    func pipeline(_ commands: [[String]], replies: Int? = nil) throws(RedisError) -> [RedisValue] {
        try withContext { context throws(RedisError) in
            let wire = try RESPCommands.encode(commands)
            let status = wire.withUnsafeBytes { bytes in
                redisAppendFormattedCommand(context, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count)
            }
            if status != REDIS_OK { throw Self.connectionError(context) }
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
        pointer.withLock { pointer in
            if let pointer { redisFree(pointer) }
            pointer = nil
        }
    }

    private func withContext<T: Sendable>(
        _ body: (UnsafeMutablePointer<redisContext>) throws(RedisError) -> T
    ) throws(RedisError) -> T {
        try pointer.withLock { pointer throws(RedisError) -> T in
            guard let pointer else { throw RedisError(.connection, "the connection is closed") }
            // hiredis marks a context unusable after an I/O or protocol error.
            if pointer.pointee.err != 0 { throw Self.connectionError(pointer) }
            return try body(pointer)
        }
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

/// Commands in RESP, Redis's wire form (`*<count>` then `$<length>` and the bytes of each
/// argument), written here and handed to hiredis whole (`redisAppendFormattedCommand`): lengths
/// are explicit, so NUL bytes and CRLF pass through unchanged. hiredis' own argv formatting
/// (`sdscatfmt` per argument) costs more per command (bench/RESULTS.md, "Figures behind the code").
enum RESPCommands {
    static func encode(_ commands: [[String]]) throws(RedisError) -> [UInt8] {
        var size = 0
        for arguments in commands {
            guard !arguments.isEmpty else { throw RedisError(.usage, "empty command") }
            size += 16
            for argument in arguments { size += argument.utf8.count + 16 }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size)
        for arguments in commands {
            append(UInt8(ascii: "*"), arguments.count, to: &bytes)
            for argument in arguments {
                append(UInt8(ascii: "$"), argument.utf8.count, to: &bytes)
                bytes.append(contentsOf: argument.utf8)
                appendLineEnd(to: &bytes)
            }
        }
        return bytes
    }

    /// `<marker><decimal>\r\n`, the digits written most significant first.
    private static func append(_ marker: UInt8, _ number: Int, to bytes: inout [UInt8]) {
        bytes.append(marker)
        var divisor = 1
        while divisor <= number / 10 { divisor *= 10 }
        var rest = number
        while divisor > 0 {
            bytes.append(UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest / divisor))
            rest %= divisor
            divisor /= 10
        }
        appendLineEnd(to: &bytes)
    }

    private static func appendLineEnd(to bytes: inout [UInt8]) {
        bytes.append(UInt8(ascii: "\r"))
        bytes.append(UInt8(ascii: "\n"))
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
            return .array(
                (0..<reply.elements).map { index in
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
