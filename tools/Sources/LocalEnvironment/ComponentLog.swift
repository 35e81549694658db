import Foundation
import ProcessSupervision

#if canImport(Glibc)
import Glibc
#endif

/// Where one component's output goes: every line into `<state>/<entry>.log` (emptied at each
/// launch), and to the console all of a service's lines but of the servers (DNS, databases,
/// Prometheus) only warnings and errors — their routine lines (nx-27017 logs every command,
/// readiness pings included) would bury the services' own. Likewise a service's request lines
/// for `GET /metrics`: Prometheus asks for it every few seconds, and an idle system would print
/// four lines each time. `localenv logs <entry>` reads the file.
final class ComponentLog: Sendable {
    let name: String
    let path: String
    /// Servers: only notable lines reach the console.
    let quiet: Bool
    private let sink: OutputSink
    private let file: Locked<Int32>

    init(name: String, path: String, quiet: Bool, sink: OutputSink) throws(LauncherError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw LauncherError("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        self.name = name
        self.path = path
        self.quiet = quiet
        self.sink = sink
        file = Locked(descriptor)
    }

    deinit { file.withLock { _ = close($0) } }

    /// One or more lines (without the last newline), as `LineReader` hands them over.
    func write(_ text: String) {
        file.withLock { descriptor in writeAll(descriptor, text + "\n") }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let shown = quiet ? lines.filter(LogLevel.isNotable) : lines.filter { !Self.isScrape($0) }
        if shown.count == lines.count {
            sink.write(name, text)
        } else if !shown.isEmpty {
            sink.write(name, shown.joined(separator: "\n"))
        }
    }

    /// A service's request line for a successful scrape:
    /// `… msg=request … method=GET ms=0.165 path=/metrics status=200` (one that failed is shown).
    static func isScrape(_ line: String) -> Bool {
        line.contains(" msg=request ") && line.contains(" method=GET ") && line.contains(" path=/metrics ")
            && line.contains(" status=200")
    }
}
