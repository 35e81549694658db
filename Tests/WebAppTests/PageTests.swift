import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import TestSupport
import Testing

@testable import WebApp

/// Every page in-process, with adderservice and auditservice as small servers on loopback.
@Suite struct PageTests {
    @Test func indexLinksToAddAndAudit() async throws {
        try await Harness.with { harness in
            try await harness.makeApp().app.test { client in
                let response = try await client.get("/")
                #expect(response.status == .ok)
                #expect(response.header("content-type") == "text/html; charset=utf-8")
                #expect(response.text.contains(#"href="/add""#))
                #expect(response.text.contains(#"href="/audit""#))
                #expect(response.text.contains(#"<meta name="viewport" content="width=device-width, initial-scale=1">"#))
                #expect(response.text.contains(#"<link rel="stylesheet" href="/stylesheets/style.css">"#))
            }
        }
    }

    @Test func addFormHasBothFieldsAndASubmitButtonInsideTheForm() async throws {
        try await Harness.with { harness in
            try await harness.makeApp().app.test { client in
                let response = try await client.get("/add")
                #expect(response.status == .ok)
                let form = try #require(response.text.section(from: "<form", to: "</form>"))
                #expect(form.contains(#"method="post" action="/add/calculate""#))
                #expect(form.contains(#"name="first""#))
                #expect(form.contains(#"name="second""#))
                #expect(form.contains(#"<button type="submit">"#))
            }
        }
    }

    @Test func calculationShowsTheSumKeepsTheOperandsAndIsAudited() async throws {
        try await Harness.with { harness in
            try await harness.makeApp().app.test { client in
                let response = try await client.submitAdd(first: "2", second: "-7")
                #expect(response.status == .ok)
                #expect(response.text.contains("2 + -7 = <strong>-5</strong>"))
                #expect(response.text.contains(#"name="first" type="text" inputmode="numeric" autocomplete="off" value="2""#))
                #expect(response.text.contains(#"value="-7""#))
                let audited = await eventually { harness.audit.stored.count == 1 }
                #expect(audited)
                #expect(harness.audit.stored.first?.calc == "2+-7")
                #expect(harness.audit.stored.first?.result == -5)
            }
        }
    }

    @Test(arguments: [
        ("abc", "3", "first number must be a whole number"),
        ("", "3", "Enter the first number"),
        ("4", "99999999999999999999", "second number is too large"),
        ("1.5", "2", "first number must be a whole number"),
        (" 4", "2", "first number must be a whole number"),
        ("+", "2", "first number must be a whole number"),
    ])
    func badOperandsShowTheFormAgainWith400AndNoAuditRecord(first: String, second: String, message: String) async throws {
        try await Harness.with { harness in
            try await harness.makeApp().app.test { client in
                let response = try await client.submitAdd(first: first, second: second)
                #expect(response.status == .badRequest)
                #expect(response.text.contains(message))
                #expect(response.text.contains(#"action="/add/calculate""#))
                #expect(response.text.contains(#"value="\#(second)""#))
            }
            #expect(harness.adder.calls.load(ordering: .relaxed) == 0)
            try await Task.sleep(for: .milliseconds(100))
            #expect(harness.audit.appendAttempts.load(ordering: .relaxed) == 0)
        }
    }

    @Test func overflowingSumIsRefusedWith400() async throws {
        try await Harness.with { harness in
            try await harness.makeApp().app.test { client in
                let response = try await client.submitAdd(first: "9223372036854775807", second: "1")
                #expect(response.status == .badRequest)
                #expect(response.text.contains("These numbers cannot be added"))
                #expect(response.text.contains(#"value="9223372036854775807""#))
            }
            try await Task.sleep(for: .milliseconds(100))
            #expect(harness.audit.appendAttempts.load(ordering: .relaxed) == 0)
        }
    }

    @Test func aBodyThatIsNotAFormIsA400WithTheForm() async throws {
        try await Harness.with { harness in
            try await harness.makeApp().app.test { client in
                let response = try await client.execute(
                    "POST", "/add/calculate", headers: [("content-type", "application/x-www-form-urlencoded")],
                    body: Array("first=%zz&&=".utf8)
                )
                #expect(response.status == .badRequest)
                #expect(response.text.contains("The form could not be read"))
                #expect(response.text.contains(#"action="/add/calculate""#))
            }
        }
    }

    /// The runtime refuses the body before any handler runs, and answers with the site's page.
    @Test func tooLargeAFormIsRefusedWith413() async throws {
        try await Harness.with { harness in
            try await harness.makeApp().app.test { client in
                let body = "first=" + String(repeating: "1", count: 70 * 1024) + "&second=2"
                let response = try await client.execute(
                    "POST", "/add/calculate", headers: [("content-type", "application/x-www-form-urlencoded")], body: Array(body.utf8)
                )
                #expect(response.status == .payloadTooLarge)
                // The runtime refuses it before any handler runs; the visitor still gets a page.
                #expect(response.header("content-type") == "text/html; charset=utf-8")
                #expect(response.text.contains("Too much data"))
            }
        }
    }

    @Test func gettingTheCalculateAddressLeadsBackToTheForm() async throws {
        try await Harness.with { harness in
            try await harness.makeApp().app.test { client in
                let response = try await client.get("/add/calculate")
                #expect(response.status == .seeOther)
                #expect(response.header("location") == "/add")
            }
        }
    }

    @Test func operandsAreEscapedInTheForm() async throws {
        try await Harness.with { harness in
            try await harness.makeApp().app.test { client in
                let response = try await client.submitAdd(first: "<script>alert(1)</script>", second: #""><b>"#)
                #expect(response.status == .badRequest)
                #expect(!response.text.contains("<script>alert(1)</script>"))
                #expect(response.text.contains("value=\"&lt;script&gt;alert(1)&lt;/script&gt;\""))
                #expect(response.text.contains("value=\"&quot;&gt;&lt;b&gt;\""))
            }
        }
    }

    /// Values from a visitor or from the history, with every character that means something in
    /// HTML, reach the page only as text: in the form's attributes and in the audit table.
    @Test func hostileOperandsAreEscapedInTheFormAttributes() async throws {
        try await Harness.with { harness in
            try await harness.makeApp().app.test { client in
                let response = try await client.submitAdd(first: #"1" onfocus='alert(1)' x="&amp;"#, second: "</form><script>x()</script>")
                #expect(response.status == .badRequest)
                let page = response.text
                #expect(!page.contains("<script>"))
                #expect(!page.contains("onfocus='"))
                #expect(page.contains(#"value="1&quot; onfocus=&#39;alert(1)&#39; x=&quot;&amp;amp;""#))
                #expect(page.contains(#"value="&lt;/form&gt;&lt;script&gt;x()&lt;/script&gt;""#))
                #expect(page.components(separatedBy: "</form>").count == 2, "one form, closed once")
            }
        }
    }

    @Test func hostileAuditRowsAreEscaped() async throws {
        try await Harness.with { harness in
            harness.audit.preload([
                .init(ts: 1_700_000_000_000, calc: #"1+2"><img src=x onerror='alert(1)'>&amp;"#, result: 3)
            ])
            try await harness.makeApp().app.test { client in
                let response = try await client.get("/audit")
                #expect(response.status == .ok)
                let page = response.text
                #expect(!page.contains("<img"))
                #expect(page.contains(#"<td class="calc">1+2&quot;&gt;&lt;img src=x onerror=&#39;alert(1)&#39;&gt;&amp;amp;</td>"#))
                #expect(page.contains(#"<time datetime="2023-11-14T22:13:20Z">2023-11-14T22:13:20Z</time>"#))
            }
        }
    }

    @Test func auditPageShowsTheNewestCalculationsEscaped() async throws {
        try await Harness.with { harness in
            harness.audit.preload([
                .init(ts: 1_700_000_000_000, calc: "1+2", result: 3),
                .init(ts: 1_700_000_060_000, calc: "<script>alert(1)</script>", result: 7),
                .init(ts: 1_700_000_120_500, calc: "40+2", result: 42),
            ])
            try await harness.makeApp().app.test { client in
                let response = try await client.get("/audit")
                #expect(response.status == .ok)
                let page = response.text
                #expect(!page.contains("<script>alert(1)</script>"))
                #expect(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
                #expect(page.contains("2023-11-14T22:13:20Z"))
                #expect(page.contains("2023-11-14T22:15:20Z"))
                let rows = page.components(separatedBy: "<tr><td>").dropFirst()
                #expect(rows.count == 3)
                #expect(rows.first?.contains("40+2") == true, "newest first")
                #expect(rows.last?.contains("1+2") == true)
            }
        }
    }

    @Test func emptyAuditPageSaysSo() async throws {
        try await Harness.with { harness in
            try await harness.makeApp().app.test { client in
                let response = try await client.get("/audit")
                #expect(response.status == .ok)
                #expect(response.text.contains("No calculations yet."))
                #expect(!response.text.contains("<table>"))
            }
        }
    }

    @Test func stylesheetHasAContentTypeAndCacheHeaders() async throws {
        try await Harness.with { harness in
            try await harness.makeApp().app.test { client in
                let response = try await client.get("/stylesheets/style.css")
                #expect(response.status == .ok)
                #expect(response.header("content-type") == "text/css; charset=utf-8")
                #expect(response.header("cache-control") == "public, max-age=3600")
                #expect(response.text.contains(".wrap"))
                let etag = try #require(response.header("etag"))
                let again = try await client.execute("GET", "/stylesheets/style.css", headers: [("if-none-match", etag)])
                #expect(again.status == .notModified)
                #expect(again.body.readableBytes == 0)
            }
        }
    }
}

extension String {
    /// The text from the first `start` to the following `end`, inclusive.
    func section(from start: String, to end: String) -> String? {
        guard let lower = range(of: start), let upper = range(of: end, range: lower.upperBound..<endIndex) else { return nil }
        return String(self[lower.lowerBound..<upper.upperBound])
    }
}
