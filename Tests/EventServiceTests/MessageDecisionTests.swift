import Contracts
import Testing

@testable import EventService

private let outside = "returnPath outside the reply key space (eventservice:reply:<1 to 128 bytes>)"

@Suite("Queue messages")
struct MessageDecisionTests {
    @Test(arguments: [
        (#"{"action":"record","type":"page","url":"http://a/b"}"#, MessageDecision.record(url: "http://a/b", id: nil)),
        (#"{"url":"http://a/ü","action":"record","extra":[1,2]}"#, .record(url: "http://a/ü", id: nil)),
        (#"{"action":"record","type":"page","url":"/add","id":"x-1"}"#, .record(url: "/add", id: "x-1")),
        (
            #"{"action":"record","url":"/add","id":"x-1","traceparent":"00-a-b-01"}"#,
            .record(url: "/add", id: "x-1", traceparent: "00-a-b-01")
        ),
        // A traceparent of another type is ignored: the event counts all the same.
        (#"{"action":"record","url":"/add","id":"x-1","traceparent":7}"#, .record(url: "/add", id: "x-1")),
        (#"{"action":"record","url":"/add","traceparent":{"a":[1]}}"#, .record(url: "/add", id: nil)),
        (#"{"action":"record","url":"/add","id":""}"#, .deadLetter(reason: "record with an empty \"id\"")),
        (#"{"action":"record","url":"/add","id":7}"#, .deadLetter(reason: "field \"id\" is not a string")),
        (#"{"action":"summary","returnPath":"eventservice:reply:1"}"#, .summary(returnPath: "eventservice:reply:1", deadline: nil)),
        (
            #"{"action":"summary","returnPath":"eventservice:reply:1","deadline":1733500000123}"#,
            .summary(returnPath: "eventservice:reply:1", deadline: 1_733_500_000_123)
        ),
        (
            #"{"action":"summary","returnPath":"eventservice:reply:1","deadline":"soon"}"#,
            .deadLetter(reason: "field \"deadline\" is not an integer")
        ),
        // Foundation's decoder reports a number that is not a 64-bit integer as invalid JSON.
        (#"{"action":"summary","returnPath":"eventservice:reply:1","deadline":1.5}"#, .deadLetter(reason: "not valid JSON")),
        (#"{"action":"summary","returnPath":"report:1"}"#, .deadLetter(reason: outside)),
        (#"{"action":"summary","returnPath":"eventservice:log"}"#, .deadLetter(reason: outside)),
        (#"{"action":"summary","returnPath":"eventservice:reply:"}"#, .deadLetter(reason: outside)),
        (#"{"action":"summary","returnPath":"xeventservice:reply:1"}"#, .deadLetter(reason: outside)),
        ("not json", .deadLetter(reason: "not valid JSON")),
        ("", .deadLetter(reason: "not valid JSON")),
        ("[1,2]", .deadLetter(reason: "not a JSON object")),
        (#"{"type":"page"}"#, .deadLetter(reason: "missing field \"action\"")),
        (#"{"action":"record"}"#, .deadLetter(reason: "record without \"url\"")),
        (#"{"action":"record","url":""}"#, .deadLetter(reason: "record without \"url\"")),
        (#"{"action":"record","url":7}"#, .deadLetter(reason: "field \"url\" is not a string")),
        (#"{"action":"summary"}"#, .deadLetter(reason: "summary without \"returnPath\"")),
        (#"{"action":"explode"}"#, .deadLetter(reason: "unknown action \"explode\"")),
    ])
    func decides(raw: String, expected: MessageDecision) {
        #expect(MessageDecision.decide(raw) == expected)
    }

    @Test func replySuffixesUpTo128BytesAreInTheKeySpace() {
        let longest = "eventservice:reply:" + String(repeating: "a", count: 128)
        #expect(MessageDecision.decide(#"{"action":"summary","returnPath":"\#(longest)"}"#) == .summary(returnPath: longest, deadline: nil))
        #expect(MessageDecision.decide(#"{"action":"summary","returnPath":"\#(longest)a"}"#) == .deadLetter(reason: outside))
    }

    /// Nesting as deep as the size limit allows is refused, not a stack overflow.
    @Test func deeplyNestedJSONIsDeadLettered() {
        let depth = EventQueueContract.maximumMessageBytes / 2
        let nested =
            #"{"action":"record","url":"/","x":"# + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + "}"
        #expect(MessageDecision.decide(nested) == .deadLetter(reason: "not valid JSON"))
    }
}
