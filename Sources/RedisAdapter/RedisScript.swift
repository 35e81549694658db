import Synchronization

/// A Lua script run with EVALSHA, so its source crosses the network once. The SHA1 comes from
/// SCRIPT LOAD (no hashing code here); when Redis answers NOSCRIPT (it restarted, or its script
/// cache was flushed) the script runs once with EVAL, which also caches it again.
public final class RedisScript: Sendable {
    public let source: String
    private let sha = Mutex<String?>(nil)

    public init(_ source: String) {
        self.source = source
    }

    public func run(on redis: some RedisCommanding, keys: [String], arguments: [String]) async throws(RedisError) -> RedisValue {
        let tail = ["\(keys.count)"] + keys + arguments
        let sha = try await loadedSHA(on: redis)
        do throws(RedisError) {
            return try await redis.command(["EVALSHA", sha] + tail)
        } catch  where error.kind == .reply && error.message.hasPrefix("NOSCRIPT") {
            return try await redis.command(["EVAL", source] + tail)
        }
    }

    private func loadedSHA(on redis: some RedisCommanding) async throws(RedisError) -> String {
        if let known = sha.withLock({ $0 }) { return known }
        guard let loaded = try await redis.command(["SCRIPT", "LOAD", source]).string else {
            throw RedisError(.reply, "SCRIPT LOAD returned no SHA1")
        }
        sha.withLock { $0 = loaded }
        return loaded
    }
}
