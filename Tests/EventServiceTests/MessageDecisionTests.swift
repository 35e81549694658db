import Testing

@testable import EventService

@Suite("Queue messages")
struct MessageDecisionTests {
    @Test(arguments: [
        (#"{"action":"record","type":"page","url":"http://a/b"}"#, MessageDecision.record(url: "http://a/b")),
        (#"{"url":"http://a/ü","action":"record","extra":[1,2]}"#, .record(url: "http://a/ü")),
        (#"{"action":"summary","returnPath":"report:1"}"#, .summary(returnPath: "report:1")),
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
}
