import Logging
import NIOCore
import NIOHTTP1
import ServiceRuntime
import TestSupport
import Testing

@testable import AdderService

/// The adderservice through its real routes, in process, over a real socket.
@Suite struct AdderRoutesTests {
    static func withAdder<T: Sendable>(_ body: @Sendable (TestHTTPClient) async throws -> T) async throws -> T {
        let app = buildApplication(
            runtime: ServiceRuntime(config: .init(service: .adderservice, port: 0, metricsPort: 0, logLevel: .warning)))
        return try await app.withRunning { ports in try await body(TestHTTPClient(port: try #require(ports.main), adminPort: ports.metrics))
        }
    }

    /// GET `path` and return the status and body.
    func get(_ path: String) async throws -> (Int, String) {
        try await Self.withAdder { client in
            let response = try await client.get(path)
            return (Int(response.status.code), response.text)
        }
    }

    @Test(arguments: [
        ("/add/2/3", #"{"result":5}"#),
        ("/add/-2/-3", #"{"result":-5}"#),
        ("/add/-7/3", #"{"result":-4}"#),
        ("/add/+4/1", #"{"result":5}"#),
        ("/add/0/0", #"{"result":0}"#),
        ("/add/9223372036854775807/0", #"{"result":9223372036854775807}"#),
        ("/add/-9223372036854775808/0", #"{"result":-9223372036854775808}"#),
        ("/add/9223372036854775807/-9223372036854775808", #"{"result":-1}"#),
    ])
    func sums(path: String, body: String) async throws {
        let (status, text) = try await get(path)
        #expect(status == 200)
        #expect(text == body)
    }

    @Test(arguments: [
        "/add/a/3", "/add/2/b", "/add/1.5/2", "/add/2/3.0", "/add//3", "/add/2/", "/add/2",
        "/add/%202/3", "/add/2%20/3", "/add/+/3", "/add/-/3", "/add/1e3/1",
        "/add/123456789012345678901234567890/1", "/add/9223372036854775808/0",
        "/add/9223372036854775807/1", "/add/-9223372036854775808/-1", "/add/0x10/1", "/add/1/2/3",
    ])
    func badInputIs400WithJSONError(path: String) async throws {
        let (status, text) = try await get(path)
        #expect(status == 400, "\(path) → \(status) \(text)")
        #expect(text.hasPrefix(#"{"error":""#), "\(path) → \(text)")
    }

    @Test func errorNamesTheOperand() async throws {
        let (_, text) = try await get("/add/2/x")
        #expect(text.contains(#"second operand \"x\""#))
    }

    @Test func overflowIsRefusedNotWrapped() async throws {
        let (status, text) = try await get("/add/9223372036854775807/1")
        #expect(status == 400)
        #expect(text.contains("does not fit"))
    }

    /// Segments are percent-decoded before the operands are read.
    @Test(arguments: [("/add/%35/1", #"{"result":6}"#), ("/add/%2D2/%2b3", #"{"result":1}"#)])
    func percentEncodedOperandsAreDecoded(path: String, body: String) async throws {
        let (status, text) = try await get(path)
        #expect(status == 200, "\(path) → \(text)")
        #expect(text == body)
    }

    @Test func headAnswersLikeGetWithoutTheBody() async throws {
        try await Self.withAdder { client in
            for path in ["/add/2/3", "/add", "/nowhere"] {
                let get = try await client.get(path)
                let head = try await client.execute("HEAD", path)
                #expect(head.status == get.status, "\(path)")
                #expect(head.header("content-length") == String(get.body.readableBytes), "\(path)")
                #expect(head.body.readableBytes == 0 && head.rest.isEmpty, "\(path)")
            }
        }
    }

    @Test(arguments: ["POST", "PUT", "DELETE"])
    func aWrongMethodIs405WithAllow(method: String) async throws {
        try await Self.withAdder { client in
            let response = try await client.execute(method, "/add/2/3")
            #expect(response.status == .methodNotAllowed)
            #expect(response.header("allow") == "GET, HEAD")
            #expect(response.text.hasPrefix(#"{"error":""#))
        }
    }

    @Test func unknownPathsAre404() async throws {
        let (status, text) = try await get("/subtract/2/3")
        #expect(status == 404)
        #expect(text == #"{"error":"not found"}"#)
    }
}
