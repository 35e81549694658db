import AdderService
import Hummingbird
import Logging
import HummingbirdTesting
import Logging
import ServiceRuntime
import Testing

/// The adderservice through its real routes, in process.
@Suite struct AdderRoutesTests {
    /// GET `path` and return the status and body.
    func get(_ path: String) async throws -> (Int, String) {
        let app = makeAdderApplication(runtime: ServiceRuntime(config: .init(service: .adderservice, port: 0, logLevel: .warning)))
        return try await app.test(.router) { client in
            try await client.execute(uri: path, method: .get) { ($0.status.code, String(buffer: $0.body)) }
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
}
