import Foundation
import ProcessSupervision

/// `localenv logs --trace <id>`: the lines of every entry that carry `trace_id=<id>`, merged in
/// time order and prefixed with their entry's name — one calculation across the webapp,
/// adderservice, auditservice and the eventservice, from the id pasted out of any one line.
/// It reads the log files in the state folder (`<entry>.log`), so it works while the launcher
/// runs and after it stopped, until the next start empties them.
public enum TraceLog {
    public struct Line: Equatable, Sendable {
        public let entry: String
        public let text: String
    }

    public static func run(stateDirectory: String, traceID: String, grep: String?) throws(LauncherError) {
        let pattern: Regex<AnyRegexOutput>?
        do {
            pattern = try grep.map { try Regex($0) }
        } catch {
            throw LauncherError("--grep \(grep ?? ""): not a regular expression: \(error)")
        }
        let found = try lines(stateDirectory: stateDirectory, traceID: traceID).filter { line in
            pattern.map { (try? $0.firstMatch(in: line.text)) != nil } ?? true
        }
        guard !found.isEmpty else {
            throw LauncherError("no line of \(stateDirectory)/*.log carries trace_id=\(traceID.lowercased())")
        }
        let sink = OutputSink(names: Array(Set(found.map(\.entry))).sorted())
        for line in found { sink.write(line.entry, line.text) }
    }

    /// The matching lines of every `<entry>.log`, ordered by their `ts=` field (the services'
    /// lines all start with one, in UTC with milliseconds, so text order is time order); lines
    /// of one instant keep their order within their file.
    public static func lines(stateDirectory: String, traceID: String) throws(LauncherError) -> [Line] {
        let id = traceID.lowercased()
        guard id.utf8.count == 32, id.utf8.allSatisfy({ (0x30...0x39).contains($0) || (0x61...0x66).contains($0) }) else {
            throw LauncherError("--trace \(traceID): a trace id is 32 hexadecimal digits, as in trace_id=… of a log line")
        }
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: stateDirectory).filter { $0.hasSuffix(".log") }.sorted()
        } catch {
            throw LauncherError("cannot read \(stateDirectory): \(error.localizedDescription)")
        }
        var stamped: [(ts: Substring, order: Int, line: Line)] = []
        for name in names {
            guard let data = FileManager.default.contents(atPath: stateDirectory + "/" + name) else { continue }
            let entry = String(name.dropLast(".log".count))
            for text in String(decoding: data, as: UTF8.self).split(separator: "\n") where carries(text, id) {
                stamped.append((timestamp(of: text), stamped.count, Line(entry: entry, text: String(text))))
            }
        }
        return stamped.sorted { ($0.ts, $0.order) < ($1.ts, $1.order) }.map(\.line)
    }

    /// `trace_id=<id>` as a whole field.
    static func carries(_ line: Substring, _ id: String) -> Bool {
        var rest = line[...]
        while let range = rest.range(of: "trace_id=" + id) {
            let before = range.lowerBound == line.startIndex || line[line.index(before: range.lowerBound)] == " "
            let after = range.upperBound == line.endIndex || line[range.upperBound] == " "
            if before && after { return true }
            rest = line[range.upperBound...]
        }
        return false
    }

    /// The value of a leading `ts=` field, or "" (such a line sorts first).
    static func timestamp(of line: Substring) -> Substring {
        guard line.hasPrefix("ts=") else { return "" }
        let value = line.dropFirst(3)
        return value.prefix { $0 != " " }
    }
}
