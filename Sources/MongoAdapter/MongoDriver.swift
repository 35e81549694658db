import CMongoc
import Logging
import NIOPosix

/// Process-wide libmongoc set-up: `mongoc_init()` exactly once, and the driver's log lines routed
/// into swift-log (its default handler prints every DEBUG line of the topology monitor to stderr).
enum MongoDriver {
    /// Swift runs a global's initializer once, thread-safely; touching this is the "init once".
    static let initialized: Void = {
        mongoc_init()
        mongoc_log_set_handler(
            { level, domain, message, _ in
                let text = message.map { String(cString: $0) } ?? ""
                let source = domain.map { String(cString: $0) } ?? "mongoc"
                driverLogger.log(level: swiftLogLevel(level), "\(text)", metadata: ["mongoc.domain": "\(source)"])
            }, nil)
    }()

    static let driverLogger = Logger(label: "mongoc")

    static func swiftLogLevel(_ level: mongoc_log_level_t) -> Logger.Level {
        switch level {
        case MONGOC_LOG_LEVEL_ERROR, MONGOC_LOG_LEVEL_CRITICAL: .error
        case MONGOC_LOG_LEVEL_WARNING: .warning
        case MONGOC_LOG_LEVEL_MESSAGE, MONGOC_LOG_LEVEL_INFO: .info
        case MONGOC_LOG_LEVEL_DEBUG: .debug
        default: .trace
        }
    }
}

extension NIOThreadPool {
    /// Threads for blocking libmongoc calls, apart from `NIOThreadPool.singleton` so a dead server
    /// (each call then blocks for the server-selection timeout) cannot starve other blocking work.
    /// 16 threads: each mostly waits on the network, and a dead server holds one for up to the
    /// server-selection timeout. Started once, never shut down, like the singleton.
    public static let mongo: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        return pool
    }()
}
