import Foundation
import NIOCore
import NIOHTTP1
import ServiceRuntime
import Synchronization
import TestSupport
import Testing

@testable import WebApp

/// A real browser (headless chromium) against the webapp on a real loopback port.
@Suite(.serialized) struct BrowserTests {
    /// A page that submits the add form as soon as it loads: chromium's command line cannot
    /// type, so this is how a POST from a real browser is driven. Test-only route.
    struct AutoSubmitRoute: Routes {
        func route(_ request: Request) -> Routing {
            guard request.segments == ["test", "submit-add"] else { return .notFound }
            return .get(
                request,
                .now("/test/submit-add") { request in
                    let first = request.queryParameter("first") ?? ""
                    let second = request.queryParameter("second") ?? ""
                    let html = """
                        <!doctype html><form method="post" action="/add/calculate">
                        <input name="first" value="\(first)"><input name="second" value="\(second)"></form>
                        <script>document.forms[0].submit()</script>
                        """
                    return Response(status: .ok, headers: ["content-type": "text/html"], body: ByteBuffer(string: html))
                })
        }
    }

    @Test func chromiumLoadsTheAddPageSubmitsTheFormAndSeesTheResult() async throws {
        try await Harness.with { harness in
            let (app, _) = try harness.makeApp(extraRoutes: AutoSubmitRoute())
            try await app.test { client in
                let base = "http://127.0.0.1:\(client.port)"

                let addPage = try await Chromium.dumpDOM(base + "/add")
                #expect(addPage.contains(#"<form class="card add-form" method="post" action="/add/calculate">"#))
                #expect(addPage.contains("<h1>Add two numbers</h1>"))

                let result = try await Chromium.dumpDOM(base + "/test/submit-add?first=19&second=23")
                #expect(result.contains("19 + 23 = <strong>42</strong>"), "DOM after submitting: \(result.prefix(2000))")
                #expect(result.contains(#"value="19""#) && result.contains(#"value="23""#))
                let audited = await eventually { harness.audit.stored.count == 1 }
                #expect(audited)

                let screenshot = try await Chromium.screenshot(base + "/test/submit-add?first=1200&second=34", name: "webapp-add-result")
                print("screenshot of the add page with a result: \(screenshot)")
            }
        }
    }

    @Test func chromiumShowsTheAuditPageWithThreeEntries() async throws {
        try await Harness.with { harness in
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            harness.audit.preload([
                .init(ts: now - 120_000, calc: "2+3", result: 5),
                .init(ts: now - 60_000, calc: "<script>alert(1)</script>", result: 0),
                .init(ts: now, calc: "1200+34", result: 1234),
            ])
            let (app, _) = try harness.makeApp()
            try await app.test { client in
                let url = "http://127.0.0.1:\(client.port)/audit"
                let dom = try await Chromium.dumpDOM(url)
                #expect(dom.components(separatedBy: "<tr><td>").count - 1 == 3)
                #expect(dom.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
                let screenshot = try await Chromium.screenshot(url, name: "webapp-audit")
                print("screenshot of the audit page: \(screenshot)")
                let home = try await Chromium.screenshot("http://127.0.0.1:\(client.port)/", name: "webapp-index")
                print("screenshot of the index page: \(home)")
            }
        }
    }
}
