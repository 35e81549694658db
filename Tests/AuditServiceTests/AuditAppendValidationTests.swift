import Contracts
import Foundation
import Synchronization
import Testing

@testable import AuditService

@Suite("POST /append body validation")
struct AuditAppendValidationTests {
    func parse(_ json: String) throws(InvalidAppendRequest) -> AuditAppend {
        try AuditAppend(body: Array(json.utf8))
    }

    @Test("a valid body, with extra fields ignored")
    func valid() throws {
        #expect(try parse(#"{"calc": "2+3", "calcResult": 5}"#) == AuditAppend(id: nil, calc: "2+3", result: 5))
        #expect(try parse(#"{"calcResult": -9223372036854775808, "calc": "min", "x": [1]}"#).result == Int64.min)
        #expect(try parse(#"{"calc": "big", "calcResult": 9223372036854775807}"#).result == Int64.max)
    }

    /// One type on both sides: what the webapp writes is what auditservice reads, and the sum is
    /// `result` in Swift but `calcResult` on the wire, as the seeds' webapp sends it.
    @Test func theWebappsBodyIsReadBackAsSent() throws {
        let sent = AuditAppend(id: "webapp-1", calc: "2+3", result: 5)
        #expect(sent.json == #"{"id":"webapp-1","calc":"2+3","calcResult":5}"#)
        #expect(try parse(sent.json) == sent)
        let seeds = AuditAppend(id: nil, calc: "2+3", result: 5)
        #expect(seeds.json == #"{"calc":"2+3","calcResult":5}"#)
        #expect(try parse(seeds.json) == seeds)
        #expect(try JSONDecoder().decode(AuditAppend.self, from: Data(sent.json.utf8)) == sent)
        let encoded = String(decoding: try JSONEncoder().encode(seeds), as: UTF8.self)
        #expect(encoded.contains(#""calcResult":5"#) && !encoded.contains(#""result""#), "\(encoded)")
    }

    @Test(
        "each invalid body is refused with a message naming the problem",
        arguments: [
            ("", "the body is empty"),
            ("not json", "the body is not a JSON object"),
            ("{not json}", "the body is not valid JSON"),
            ("[1, 2]", "the body is a JSON array, not an object"),
            (#"{"calcResult": 5}"#, "calc is missing"),
            (#"{"calc": "2+3"}"#, "calcResult is missing"),
            (#"{"calc": 23, "calcResult": 5}"#, "calc must be a string, not an integer"),
            (#"{"calc": "", "calcResult": 5}"#, "calc must not be empty"),
            (#"{"calc": "2+3", "calcResult": 5.0}"#, "calcResult must be an integer, not a floating-point number"),
            (#"{"calc": "2+3", "calcResult": 5.5}"#, "calcResult must be an integer, not a floating-point number"),
            (#"{"calc": "2+3", "calcResult": 5e0}"#, "calcResult must be an integer, not a floating-point number"),
            (#"{"calc": "2+3", "calcResult": "5"}"#, "calcResult must be an integer, not a string"),
            (#"{"calc": "2+3", "calcResult": null}"#, "calcResult must be an integer, not null"),
            (#"{"calc": "2+3", "calcResult": true}"#, "calcResult must be an integer, not a boolean"),
            (#"{"calc": "2+3", "calcResult": 9223372036854775808}"#, "out of range"),
            (#"{"calc": "2+3", "calcResult": 18446744073709551616}"#, "outside the 64-bit integer range"),
            (#"{"calc": "2+3", "calcResult": 5} trailing"#, "the body is not valid JSON"),
        ]
    )
    func invalid(json: String, expected: String) {
        do {
            let parsed = try parse(json)
            Issue.record("accepted \(json) as \(parsed)")
        } catch {
            #expect(error.message.contains(expected), "\(error.message)")
        }
    }

    @Test("calc is bounded at 1000 characters")
    func calcLength() throws {
        let longest = String(repeating: "1", count: AuditAppend.maximumCalcLength)
        #expect(try parse(#"{"calc": "\#(longest)", "calcResult": 1}"#).calc == longest)
        #expect(throws: InvalidAppendRequest("calc is longer than 1000 characters")) {
            try parse(#"{"calc": "\#(longest)1", "calcResult": 1}"#)
        }
    }
}

@Suite("GET /list limit parameter")
struct ListLimitTests {
    @Test("absent → 10, small numbers as given, large ones capped at 100")
    func accepted() throws {
        #expect(try AuditRoutes.listLimit(nil) == 10)
        #expect(try AuditRoutes.listLimit("1") == 1)
        #expect(try AuditRoutes.listLimit("007") == 7)
        #expect(try AuditRoutes.listLimit("100") == 100)
        #expect(try AuditRoutes.listLimit("101") == 100)
        #expect(try AuditRoutes.listLimit("99999999999999999999999") == 100)
    }

    @Test("not a positive integer → 400", arguments: ["", "0", "000", "-1", "+5", "1.5", "ten", " 5", "5 "])
    func refused(_ text: String) {
        #expect(throws: (any Error).self) { try AuditRoutes.listLimit(text) }
    }
}

@Suite("append timestamps")
struct AppendClockTests {
    @Test("strictly increasing within a millisecond, and back on the wall clock once it moves past")
    func strictlyIncreasing() {
        let wallClock = Synchronization.Mutex<Int64>(1_000)
        let clock = AppendClock(now: { wallClock.withLock { $0 } })
        #expect([clock.next(), clock.next(), clock.next()] == [1_000, 1_001, 1_002])
        wallClock.withLock { $0 = 1_010 }
        #expect(clock.next() == 1_010)
        wallClock.withLock { $0 = 1_005 }  // the wall clock stepped back: order is kept
        #expect(clock.next() == 1_011)
    }

    @Test("the shared clock follows the wall clock")
    func sharedIsWallClock() {
        let before = Int64(Date().timeIntervalSince1970 * 1000)
        let stamp = AppendClock.shared.next()
        #expect(stamp >= before && stamp < before + 1_000)
    }
}
