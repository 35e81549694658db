import NIOHTTP1
import Synchronization
import TestSupport
import Testing

@testable import WebApp

/// The add form refuses a post another site's page made a browser send (403), and takes the
/// site's own posts and those of clients that are no browser.
@Suite struct CrossSiteTests {
    static func post(_ client: TestHTTPClient, _ headers: [(String, String)]) async throws -> TestHTTPResponse {
        try await client.execute(
            "POST", "/add/calculate", headers: [("Content-Type", "application/x-www-form-urlencoded")] + headers,
            body: Array("first=2&second=3".utf8)
        )
    }

    @Test func aPostFromAnotherSiteIsRefusedAndNotCounted() async throws {
        let sink = MemoryEventSink()
        try await Harness.with { harness in
            try await harness.makeApp(sink: sink).app.test { client in
                for headers in [
                    [("Origin", "http://evil.example")],
                    [("Origin", "http://127.0.0.1:1")],
                    [("Origin", "null")],
                    [("Sec-Fetch-Site", "cross-site")],
                    [("Origin", "http://127.0.0.1:\(client.port)"), ("Sec-Fetch-Site", "cross-site")],
                ] {
                    let page = try await Self.post(client, headers)
                    #expect(page.status == .forbidden, "\(headers)")
                    #expect(page.text.contains("can only be sent from this site"), "\(headers)")
                    #expect(!page.text.contains("<strong>5</strong>"))
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(harness.audit.stored.isEmpty, "nothing was calculated")
        }
        #expect(sink.messages.withLock { $0 }.isEmpty, "no page view counted")
    }

    @Test func theSitesOwnPostsAndClientsWithoutOriginAreAnswered() async throws {
        try await Harness.with { harness in
            try await harness.makeApp().app.test { client in
                for headers in [
                    [],
                    [("Origin", "http://127.0.0.1:\(client.port)")],
                    [("Origin", "HTTP://127.0.0.1:\(client.port)"), ("Sec-Fetch-Site", "same-origin")],
                    [("Sec-Fetch-Site", "none")],
                ] {
                    let page = try await Self.post(client, headers)
                    #expect(page.status == .ok, "\(headers)")
                    #expect(page.text.contains("<strong>5</strong>"), "\(headers)")
                }
            }
            #expect(harness.audit.stored.count == 4)
        }
    }
}
