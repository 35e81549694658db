import Logging
import Synchronization

/// Log lines a test can look at: the request id on the 500 page must also be in the log, a line
/// inside a span must carry its trace's ids.
public final class CapturedLogs: Sendable {
    public struct Line: Sendable {
        public let level: Logger.Level
        public let message: String
        /// The logger's metadata, then its provider's, then the line's own (as LogLineHandler
        /// merges them).
        public let metadata: [String: String]
    }

    private let lines = Synchronization.Mutex<[Line]>([])

    public init() {}

    public var all: [Line] { lines.withLock { $0 } }

    /// `metadataProvider`: what every line gets besides its own (e.g. the current span's ids).
    public func logger(label: String, metadataProvider: Logger.MetadataProvider? = nil) -> Logger {
        Logger(label: label) { _ in Handler(logs: self, metadataProvider: metadataProvider) }
    }

    fileprivate func append(_ line: Line) { lines.withLock { $0.append(line) } }

    private struct Handler: LogHandler {
        let logs: CapturedLogs
        var metadataProvider: Logger.MetadataProvider?
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        init(logs: CapturedLogs, metadataProvider: Logger.MetadataProvider?) {
            self.logs = logs
            self.metadataProvider = metadataProvider
        }

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(metadataProvider?.get() ?? [:]) { _, new in new }.merging(event.metadata ?? [:]) { _, new in new }
            logs.append(Line(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
        }
    }
}
