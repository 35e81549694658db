import Foundation
import LocalEnvironment
import TestSupport
import Testing

/// `localenv logs --trace`: one trace's lines of every entry's log file, in time order.
@Suite struct TraceLogTests {
    static let id = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let other = "0af7651916cd43dd8448eb211c80319c"

    /// Log files as the launcher leaves them: each entry's lines in its own order, the
    /// services' with a leading `ts=`.
    func stateFolder(_ files: [String: [String]]) throws -> String {
        let folder = TestPaths.temporaryDirectory(prefix: "tracelog")
        for (entry, lines) in files {
            try (lines.joined(separator: "\n") + "\n").write(toFile: "\(folder)/\(entry).log", atomically: true, encoding: .utf8)
        }
        try "not a log\n".write(toFile: "\(folder)/control.sock", atomically: true, encoding: .utf8)
        return folder
    }

    @Test func linesOfOneTraceFromEveryEntryInTimeOrder() throws {
        let folder = try stateFolder([
            "webapp": [
                "ts=2026-12-07T10:00:00.100Z level=info service=webapp msg=request request_id=a trace_id=\(Self.id) span_id=1 path=/add/calculate",
                "ts=2026-12-07T10:00:00.101Z level=info service=webapp msg=request request_id=b trace_id=\(Self.other) span_id=9",
                "ts=2026-12-07T10:00:00.050Z level=info service=webapp msg=\"calculation recorded\" trace_id=\(Self.id) span_id=1",
            ],
            "adderservice": [
                "ts=2026-12-07T10:00:00.020Z level=info service=adderservice msg=request trace_id=\(Self.id) span_id=2 path=/add/2/3",
                "ts=2026-12-07T10:00:00.030Z level=info service=adderservice msg=request trace_id=\(Self.id)ff span_id=7",
            ],
            "eventservice": ["ts=2026-12-07T10:00:00.300Z level=info service=eventservice msg=applied trace_id=\(Self.id) span_id=3"],
            "redis": ["1:M 07 Dec 2026 10:00:00.000 * Ready to accept connections tcp"],
        ])
        let lines = try TraceLog.lines(stateDirectory: folder, traceID: Self.id.uppercased())
        #expect(lines.map(\.entry) == ["adderservice", "webapp", "webapp", "eventservice"])
        #expect(lines.map { $0.text.contains("trace_id=\(Self.id) ") || $0.text.hasSuffix("trace_id=\(Self.id)") }.allSatisfy { $0 })
        #expect(lines[1].text.contains("calculation recorded"))
    }

    @Test(arguments: ["", "4bf92f35", "4bf92f3577b34da6a3ce929d0e0e4736ff", "zzf92f3577b34da6a3ce929d0e0e4736", "-r /"])
    func aMalformedIDIsRefused(id: String) throws {
        let folder = try stateFolder(["webapp": ["ts=x trace_id=\(Self.id)"]])
        #expect(throws: LauncherError.self) { try TraceLog.lines(stateDirectory: folder, traceID: id) }
    }
}
