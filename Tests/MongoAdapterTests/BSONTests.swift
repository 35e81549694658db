import Discovery
import Testing

@testable import MongoAdapter

@Suite("BSON conversion and JSON parsing")
struct BSONTests {
    @Test("every mapped type survives a trip through libbson")
    func roundTrip() throws {
        let document: BSONDocument = [
            "double": .double(2.5), "string": .string("grüße \u{0}nul"), "empty": .string(""),
            "nested": .document(["a": .int32(1), "b": .array([.int64(Int64.min), .null, .bool(true)])]),
            "oid": .objectID("6b026e15f25ed7434e058c01"), "date": .dateTime(1_700_000_000_123),
            "int32": .int32(-7), "int64": .int64(Int64.max),
        ]
        let bson = try OwnedBSON(document)
        #expect(try bson.decoded() == document)
    }

    @Test("a key with a NUL and a malformed ObjectId are refused")
    func refusedValues() {
        #expect(throws: BSONError.self) { _ = try OwnedBSON(["a\u{0}b": .int32(1)]) }
        #expect(throws: BSONError.self) { _ = try OwnedBSON(["id": .objectID("xyz")]) }
    }

    @Test("JSON numbers keep their form: integers stay integers, fractions and exponents are doubles")
    func jsonNumbers() throws {
        func value(_ json: String) throws -> BSONValue? { try BSONDocument(json: Array(json.utf8))["n"] }
        #expect(try value(#"{"n": 5}"#) == .int32(5))
        #expect(try value(#"{"n": -3000000000}"#) == .int64(-3_000_000_000))
        #expect(try value(#"{"n": 9223372036854775807}"#) == .int64(Int64.max))
        #expect(try value(#"{"n": -9223372036854775808}"#) == .int64(Int64.min))
        #expect(try value(#"{"n": 5.0}"#) == .double(5))
        #expect(try value(#"{"n": 5e0}"#) == .double(5))
        #expect(try value(#"{"n": "5"}"#) == .string("5"))
        #expect(try value(#"{"n": null}"#) == .null)
        #expect(throws: BSONError.self) { try value(#"{"n": 9223372036854775808}"#) }
    }

    @Test(
        "integers of 2^64 and more are refused, not wrapped (libbson 1.23 alone wraps them)",
        arguments: [
            #"{"n": 18446744073709551616}"#, #"{"n": 99999999999999999999}"#, #"{"n": -99999999999999999999}"#,
            #"{"a": "x", "n": [1, 123456789012345678901234567890]}"#,
        ]
    )
    func overlongIntegers(_ json: String) {
        #expect(throws: BSONError.self) { try BSONDocument(json: Array(json.utf8)) }
    }

    @Test("long digit runs in strings, fractions and exponents are not integers")
    func longDigitsElsewhere() throws {
        let document = try BSONDocument(
            json: Array(
                #"{"s": "12345678901234567890123", "k\"1": "\\", "f": 1.12345678901234567890123, "e": 1e-12345678901234567890}"#.utf8)
        )
        #expect(document["s"] == .string("12345678901234567890123"))
        #expect(document["f"] == .double(1.1234567890123457))
        #expect(document["e"] == .double(0))
    }

    @Test(
        "anything but exactly one JSON object is refused",
        arguments: ["", "   ", "[1,2]", "5", "\"x\"", "null", "{", "{\"a\":1} x", "{\"a\":1}{\"b\":2}", "{'a':1}", "{\"a\":01}"]
    )
    func notOneObject(_ json: String) {
        #expect(throws: BSONError.self) { try BSONDocument(json: Array(json.utf8)) }
    }

    @Test("parse errors say what is wrong")
    func parseMessages() {
        #expect(throws: BSONError("the body is empty")) { try BSONDocument(json: Array("".utf8)) }
        #expect(throws: BSONError("the body is a JSON array, not an object")) { try BSONDocument(json: Array("[]".utf8)) }
        #expect(throws: BSONError("the body is not a JSON object")) { try BSONDocument(json: Array("hello".utf8)) }
        do {
            _ = try BSONDocument(json: Array(#"{"a": tru}"#.utf8))
            Issue.record("bad JSON was accepted")
        } catch {
            #expect(error.message.hasPrefix("the body is not valid JSON:"))
        }
    }

    @Test("a parsed object keeps key order and nested values")
    func jsonStructure() throws {
        let document = try BSONDocument(json: Array(#" {"b": [1, "x"], "a": {"c": true}, "u": "\ud83d\ude00"} "#.utf8))
        #expect(document.keys == ["b", "a", "u"])
        #expect(document["b"] == .array([.int32(1), .string("x")]))
        #expect(document["a"] == .document(["c": .bool(true)]))
        #expect(document["u"] == .string("😀"))
    }

    @Test("int64Value reads both integer widths and nothing else")
    func integerWidths() {
        #expect(BSONValue.int32(7).int64Value == 7)
        #expect(BSONValue.int64(-7).int64Value == -7)
        #expect(BSONValue.double(7).int64Value == nil)
        #expect(BSONValue.string("7").int64Value == nil)
    }
}

@Suite("MongoDB URIs")
struct MongoURITests {
    @Test("every target is listed, IPv6 bracketed, options in order")
    func listsTargets() {
        let uri = MongoURI.make(
            targets: [ServiceTarget(host: "10.0.0.1", port: 27017), ServiceTarget(host: "::1", port: 27018)],
            options: [("serverSelectionTimeoutMS", "1500"), ("connectTimeoutMS", "1000")], appName: "auditservice"
        )
        #expect(uri == "mongodb://10.0.0.1:27017,[::1]:27018/?serverSelectionTimeoutMS=1500&connectTimeoutMS=1000&appname=auditservice")
    }

    @Test("the default options are short timeouts the driver accepts")
    func defaultsParse() throws {
        let uri = MongoURI.make(targets: [ServiceTarget(host: "localhost", port: 27017)])
        #expect(uri.contains("serverSelectionTimeoutMS=1500"))
        _ = try MongoClientPool(uri: uri)
    }

    @Test("credentials: user and password percent-encoded, the user's database as authSource")
    func credentials() throws {
        let credentials = MongoCredentials(username: "audit:service@x", password: "p@ss:w/rd?#[]%é ~._-", authSource: "audit")
        let uri = MongoURI.make(targets: [ServiceTarget(host: "mongo-0", port: 27017)], options: [], appName: "a", credentials: credentials)
        #expect(
            uri == "mongodb://audit%3Aservice%40x:p%40ss%3Aw%2Frd%3F%23%5B%5D%25%C3%A9%20~._-@mongo-0:27017/?appname=a&authSource=audit")
        // The driver reads back exactly what was meant.
        let pool = try MongoClientPool(uri: uri)
        #expect(pool.username == "audit:service@x")
        #expect(pool.password == "p@ss:w/rd?#[]%é ~._-")
        #expect(pool.authSource == "audit")
        // Without credentials nothing of them is in the URI.
        #expect(MongoURI.make(targets: [ServiceTarget(host: "h", port: 1)], options: []) == "mongodb://h:1/")
    }

    @Test("the password never shows in a message")
    func redacted() {
        let credentials = MongoCredentials(username: "auditservice", password: "s3cret", authSource: "audit")
        let uri = MongoURI.make(
            targets: [ServiceTarget(host: "h", port: 1), ServiceTarget(host: "::1", port: 2)], options: [], credentials: credentials)
        #expect(MongoURI.redacted(uri) == "mongodb://auditservice:***@h:1,[::1]:2/?authSource=audit")
        #expect(MongoURI.redacted("mongodb://h:1/?x=@") == "mongodb://h:1/?x=@")
        do {
            _ = try MongoClientPool(uri: "mongodb://auditservice:s3cret@host:notaport/")
            Issue.record("bad URI accepted")
        } catch {
            #expect(!error.message.contains("s3cret"), "\(error.message)")
            #expect(error.message.contains("auditservice:***@host:notaport"), "\(error.message)")
        }
    }

    @Test("an unusable URI is an invalid-argument error naming it")
    func badURI() {
        do {
            _ = try MongoClientPool(uri: "mongodb://host:notaport/")
            Issue.record("bad URI accepted")
        } catch {
            #expect(error.kind == .invalidArgument)
            #expect(error.message.contains("host:notaport"))
        }
    }
}
