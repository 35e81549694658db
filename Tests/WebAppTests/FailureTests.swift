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
                let response = try await client.execute(uri: "/no/such/page", method: .GET)
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
                let response = try await client.execute(uri: "/explode", method: .GET)
                #expect(response.status == .internalServerError)
                #expect(response.text.contains("Something went wrong"))
                #expect(!response.text.contains("Boom"), "no internals on the page")
                let logged = try #require(harness.logs.all.first { $0.message == "unhandled error" })
                let requestID = try #require(logged.metadata["hb.request.id"])
                #expect(response.text.contains("<code>\(requestID)</code>"))
                #expect(logged.metadata["error"]?.contains("Boom") == true)
                // The runtime's request log line has the same id and the page's status.
                let requestLine = harness.logs.all.first { $0.message == "request" && $0.metadata["hb.request.id"] == requestID }
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
                let response = try await client.execute(uri: "/audit", method: .GET)
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

    @Test func failedAuditAppendsAreRetriedUntilStored() async throws {
        try await Harness.with { harness in
            harness.audit.failAppends.store(3, ordering: .relaxed)
            try await harness.makeApp().app.test { client in
                let response = try await client.submitAdd(first: "20", second: "22")
                #expect(response.status == .ok)
                let stored = await eventually { harness.audit.stored.count == 1 }
                #expect(stored)
                #expect(harness.audit.appendAttempts.load(ordering: .relaxed) == 4)
                #expect(harness.audit.stored.first?.calc == "20+22")
            }
        }
    }

    @Test func auditserviceDownDoesNotDelayTheAddPage() async throws {
        try await Harness.with { harness in
            try await harness.makeApp(auditTargets: [Harness.closedTarget()]).app.test { client in
                let clock = ContinuousClock()
                let elapsed = try await clock.measure {
                    for _ in 1...5 {
                        let response = try await client.submitAdd(first: "1", second: "2")
                        #expect(response.status == .ok)
                    }
                }
                #expect(elapsed < .seconds(2), "five pages took \(elapsed) with auditservice down")
            }
        }
    }

    /// auditservice failing for longer than the queue holds: the page waits its bounded time, then
    /// says the history is not taking entries (503) instead of hanging; what was accepted is
    /// stored once auditservice recovers, and the refused calculation never is.
    @Test func aHistoryThatStaysFullRefusesTheCalculationInsteadOfHanging() async throws {
        try await Harness.with { harness in
            harness.audit.failAppends.store(1_000_000, ordering: .relaxed)
            var settings = Harness.quickAuditSettings
            settings.capacity = 2
            settings.concurrency = 1
            settings.maximumWait = .milliseconds(300)
            try await harness.makeApp(audit: settings).app.test { client in
                // One record in its sender's retries, two in the queue.
                for first in 1...3 {
                    let response = try await client.submitAdd(first: "\(first)", second: "1")
                    #expect(response.status == .ok)
                }
                let clock = ContinuousClock()
                let start = clock.now
                let refused = try await client.submitAdd(first: "4", second: "1")
                let elapsed = start.duration(to: clock.now)
                #expect(refused.status == .serviceUnavailable)
                #expect(refused.text.contains("not taking new entries"), "\(refused.text)")
                #expect(!refused.text.contains("<strong>5</strong>"), "a refused calculation is not shown as done")
                #expect(elapsed >= .milliseconds(300) && elapsed < .seconds(3), "refused after \(elapsed)")

                harness.audit.failAppends.store(0, ordering: .relaxed)
                #expect(await eventually { harness.audit.stored.count == 3 })
                try await Task.sleep(for: .milliseconds(500))
                #expect(harness.audit.stored.map(\.calc).sorted() == ["1+1", "2+1", "3+1"])
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
