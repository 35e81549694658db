import AsyncHTTPClient
import Foundation
import NIOCore
import TestSupport
import Testing

@testable import ServiceRuntime

/// The request log's line format: logfmt that parses back into the same pairs, and its clock.
@Suite(.stopsServers) struct LogLineTests {
    @Test func plainValuesStayBare() {
        var line = LogLine()
        line.field("msg", "request")
        line.field("path", "/add/2/3")
        #expect(String(decoding: line.bytes, as: UTF8.self) == "msg=request path=/add/2/3")
    }

    @Test func valuesThatWouldBreakTheLineAreQuotedAndEscaped() {
        var line = LogLine()
        line.field("msg", "Server started on 0.0.0.0:8080")
        line.field("path", #"/a"b=c\d"#)
        line.field("evil", "one\ntwo\u{1}")
        line.field("empty", "")
        let text = String(decoding: line.bytes, as: UTF8.self)
        #expect(text == #"msg="Server started on 0.0.0.0:8080" path="/a\"b=c\\d" evil="one\ntwo\u0001" empty="""#)
        #expect(!text.contains("\n"))
    }

    @Test func timestampsAreISO8601UTCWithMilliseconds() throws {
        #expect(Timestamp.format(0) == "1970-01-01T00:00:00")
        #expect(Timestamp.format(1_795_335_684) == "2026-11-22T08:21:24")
        var line = LogLine()
        line.timestampField()
        let text = String(decoding: line.bytes, as: UTF8.self)
        let pattern = try Regex(#"^ts=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"#)
        #expect(text.wholeMatch(of: pattern) != nil, "\(text)")
    }

    @Test func integersAreWrittenAsDecimalDigitsPaddedToTheirWidth() {
        func decimal(_ value: Int, width: Int = 1) -> String {
            var bytes: [UInt8] = []
            LogLine.appendDecimal(value, to: &bytes, width: width)
            return String(decoding: bytes, as: UTF8.self)
        }
        #expect(decimal(0) == "0")
        #expect(decimal(200) == "200")
        #expect(decimal(7, width: 3) == "007")
        #expect(decimal(42, width: 3) == "042")
        #expect(decimal(-15) == "-15")
        #expect(decimal(Int.max) == String(Int.max))
        #expect(decimal(Int.min) == String(Int.min))
    }

    /// Trace and span ids as `traceparent` has them: two lowercase hex digits a byte, in order.
    @Test func idsAreLowercaseHexadecimalDigitsInByteOrder() {
        var random = SystemRandomNumberGenerator()
        let ids: [[UInt8]] =
            [Array(repeating: 0, count: 16), Array(repeating: 0xFF, count: 8), Array(0..<16).map { UInt8($0 * 17) }]
            + (0..<200).map { _ in (0..<16).map { _ in UInt8.random(in: 0...255, using: &random) } }
        for id in ids {
            var line = LogLine()
            id.withUnsafeBytes { line.field("trace_id", hex: $0) }
            let expected = id.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
            #expect(String(decoding: line.bytes, as: UTF8.self) == "trace_id=" + expected)
        }
    }

    @Test func durationsPrintAsMillisecondsWithMicroseconds() {
        typealias Telemetry = RequestTelemetry
        #expect(Telemetry.milliseconds(.microseconds(52)) == "0.052")
        #expect(Telemetry.milliseconds(.microseconds(1_234_567)) == "1234.567")
        #expect(Telemetry.milliseconds(.milliseconds(3)) == "3.000")
        #expect(Telemetry.milliseconds(.zero) == "0.000")
    }

    /// The real executable: one logfmt line per request on stdout, naming method, path and status.
    @Test func aServiceProcessLogsOneLinePerRequest() async throws {
        let server = try await ServiceProcess.start("adderservice")
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/add/2/3"), timeout: .seconds(5)
        )
        #expect(String(buffer: try await response.body.collect(upTo: 1024)) == #"{"result":5}"#)
        try await Task.sleep(for: .milliseconds(200))
        let lines = server.log().split(separator: "\n").filter { $0.contains("msg=request") }
        #expect(lines.count == 1, "\(server.log())")
        let line = try #require(lines.first)
        for part in ["level=info", "service=adderservice", "method=GET", "path=/add/2/3", "status=200", "request_id="] {
            #expect(line.contains(part), "\(line)")
        }
        #expect(line.hasPrefix("ts="))
    }
}
