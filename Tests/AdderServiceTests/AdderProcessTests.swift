import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TestSupport
import Testing

/// README's promise, checked on the built executable: run it, curl /add/2/3, stop it cleanly.
@Suite(.stopsServers) struct AdderProcessTests {
    @Test func builtExecutableAddsAndStopsCleanly() async throws {
        let server = try await ServiceProcess.start("adderservice")
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/add/2/3"), timeout: .seconds(5)
        )
        #expect(response.status == .ok)
        #expect(response.headers.first(name: "content-type") == "application/json")
        #expect(String(buffer: try await response.body.collect(upTo: 1024)) == #"{"result":5}"#)
        server.signal(SIGTERM)
        #expect(await server.waitForExit(timeout: .seconds(10)) == 0)
        #expect(server.log().contains("path=/add/2/3"), "one log line per request: \(server.log())")
    }
}
