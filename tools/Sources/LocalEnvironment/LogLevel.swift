import Foundation

/// Which lines of a server's output (dnsmasq, redis-server, mongod, nx-27017, prometheus) are worth the
/// console: warnings and errors. Everything else stays in the server's log file.
///
/// Each server has its own format, so the level is read where that format puts it; a line in
/// none of them (dnsmasq, a Python traceback, a crash message) is notable when it says so in words.
enum LogLevel {
    static func isNotable(_ line: String) -> Bool {
        if let level = pythonLevel(line) { return !["DEBUG", "INFO"].contains(level) }
        if let mark = redisMark(line) { return mark == "#" }
        if let severity = mongodSeverity(line) { return ["W", "E", "F"].contains(severity) }
        if let level = logfmtLevel(line) { return !["debug", "info"].contains(level) }
        let lower = line.lowercased()
        return ["warn", "error", "fail", "fatal", "critical", "panic", "traceback", "exception", "cannot"]
            .contains { lower.contains($0) }
    }

    /// Python's logging, as nx-27017 formats it: `2026-12-03 14:49:17,122 - nx_27017 - INFO - …`.
    static func pythonLevel(_ line: String) -> String? {
        let fields = line.split(separator: " - ", maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count >= 3 else { return nil }
        let level = String(fields[2])
        return ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"].contains(level) ? level : nil
    }

    /// redis-server: `12345:M 03 Dec 2026 14:49:17.122 # message`; `#` marks a warning, `*`
    /// `-` `.` are notice, verbose and debug.
    static func redisMark(_ line: String) -> Character? {
        let words = line.split(separator: " ", maxSplits: 6, omittingEmptySubsequences: false)
        guard words.count == 7, let role = words[0].split(separator: ":").last, role.count == 1,
            words[0].first?.isNumber == true, words[5].count == 1, let mark = words[5].first,
            "#*-.".contains(mark)
        else { return nil }
        return mark
    }

    /// logfmt, as Prometheus writes it: `ts=… caller=main.go:551 level=info msg="Starting Prometheus Server"`.
    static func logfmtLevel(_ line: String) -> String? {
        guard line.hasPrefix("ts="), let range = line.range(of: " level=") else { return nil }
        return String(line[range.upperBound...].prefix { $0 != " " })
    }

    /// mongod's structured log: `{"t":…,"s":"I",…}`; W, E and F are warning, error and fatal.
    static func mongodSeverity(_ line: String) -> String? {
        guard line.hasPrefix("{\"t\":"), let range = line.range(of: "\"s\":\"") else { return nil }
        return line[range.upperBound...].first.map(String.init)
    }
}
