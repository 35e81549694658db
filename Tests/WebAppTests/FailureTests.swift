import NIOCore
import NIOHTTP1
import ServiceRuntime
import Synchronization
import TestSupport
import Testing

@testable import WebApp

/// Error pages and dependencies that are down, slow or failing.
@Suite struct FailureTests {
    struct Boom: Error {}

    struct ExplodingRoute: Routes {
        func route(_ request: Request) -> Routing {
            request.segments == ["explode"] ? .get(request, .now("/explode") { _ in throw Boom() }) : .notFound
        }
    }

    @Test func unknownPathIsAn404PageInTheLayout() async throws {
        try await Harness.with { harness in
            try await harness.makeApp().app.test { client in
                let response = try await client.get("/no/such/page")
                #expect(response.status == .notFound)
                #expect(response.header("content-type") == "text/html; charset=utf-8")
                #expect(response.text.contains("Page not found"))
                #expect(response.text.contains(#"<link rel="stylesheet" href="/stylesheets/style.css">"#))
            }
        }
    }

    @Test func unexpectedErrorIsA500PageWithTheRequestIDFromTheLog() async throws {
        try await Harness.with { harness in
            let (app, _) = try harness.makeApp(extraRoutes: ExplodingRoute())
            try await app.test { client in
                let response = try await client.get("/explode")
                #expect(response.status == .internalServerError)
                #expect(response.text.contains("Something went wrong"))
                #expect(!response.text.contains("Boom"), "no internals on the page")
                let logged = try #require(harness.logs.all.first { $0.message == "unhandled error" })
                let requestID = try #require(logged.metadata["request_id"])
                #expect(response.text.contains("<code>\(requestID)</code>"))
                #expect(logged.metadata["error"]?.contains("Boom") == true)
                // The runtime's request log line has the same id and the page's status.
                let requestLine = harness.logs.all.first { $0.message == "request" && $0.metadata["request_id"] == requestID }
                #expect(requestLine?.metadata["status"] == "500")
            }
        }
    }

    @Test func adderserviceDownMeansTheCalculatorIsUnavailable() async throws {
        try await Harness.with { harness in
            try await harness.makeApp(adderTargets: [Harness.closedTarget()]).app.test { client in
                let response = try await client.submitAdd(first: "2", second: "3")
                #expect(response.status == .serviceUnavailable)
                #expect(response.text.contains("The calculator is unavailable right now"))
                #expect(response.text.contains(#"value="2""#))
            }
            try await Task.sleep(for: .milliseconds(100))
            #expect(harness.audit.appendAttempts.load(ordering: .relaxed) == 0)
        }
    }

    @Test func auditserviceDownMeansTheHistoryIsUnavailable() async throws {
        try await Harness.with { harness in
            try await harness.makeApp(auditTargets: [Harness.closedTarget()]).app.test { client in
                let response = try await client.get("/audit")
                #expect(response.status == .serviceUnavailable)
                #expect(response.text.contains("The calculation history is unavailable right now"))
            }
        }
    }

    @Test func callsFailOverToTheTargetThatIsUp() async throws {
        try await Harness.with { harness in
            let targets = [Harness.closedTarget(), harness.adderTarget, Harness.closedTarget()]
            try await harness.makeApp(adderTargets: targets).app.test { client in
                for round in 1...6 {
                    let response = try await client.submitAdd(first: "\(round)", second: "1")
                    #expect(response.status == .ok)
                    #expect(response.text.contains("= <strong>\(round + 1)</strong>"))
                }
            }
            #expect(harness.adder.calls.load(ordering: .relaxed) == 6)
        }
    }

    /// Without an outbox the record is stored by auditservice before the page is sent: failed
    /// appends are retried within the deadline, and a record that is never stored is never shown.
    @Test func withoutAnOutboxTheRecordIsStoredBeforeThePageWithRetries() async throws {
        try await Harness.with { harness in
            harness.audit.failAppends.store(3, ordering: .relaxed)
            try await harness.makeApp().app.test { client in
                let response = try await client.submitAdd(first: "20", second: "22")
                #expect(response.status == .ok)
                #expect(harness.audit.stored.map(\.calc) == ["20+22"], "stored before the page was sent")
                #expect(harness.audit.appendAttempts.load(ordering: .relaxed) == 4)

                harness.audit.failAppends.store(1_000_000, ordering: .relaxed)
                let refused = try await client.submitAdd(first: "1", second: "2")
                #expect(refused.status == .serviceUnavailable)
                #expect(refused.text.contains("could not be recorded"), "\(refused.text)")
                #expect(!refused.text.contains("<strong>3</strong>"), "a calculation not recorded is not shown as done")
            }
        }
    }

    /// The runtime's own refusals are pages too: a malformed request, a wrong method (with
    /// `Allow`), and HEAD answers like GET without the body.
    @Test func malformedRequestsAndWrongMethodsGetPages() async throws {
        try await Harness.with { harness in
            try await harness.makeApp().app.test { client in
                let connection = try RawConnection(port: client.port)
                defer { connection.close() }
                try connection.send("POST /add/calculate HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
                let malformed = try #require(await connection.readResponse())
                #expect(malformed.status == .badRequest)
                #expect(malformed.header("content-type") == "text/html; charset=utf-8")
                #expect(malformed.text.contains("Bad request"))

                let wrongMethod = try await client.execute("DELETE", "/audit")
                #expect(wrongMethod.status == .methodNotAllowed)
                #expect(wrongMethod.header("allow") == "GET, HEAD")
                #expect(wrongMethod.text.contains("Not allowed"))

                let head = try await client.execute("HEAD", "/add")
                let get = try await client.get("/add")
                #expect(head.status == .ok)
                #expect(head.header("content-length") == String(get.body.readableBytes))
                #expect(head.body.readableBytes == 0)
            }
        }
    }
}
