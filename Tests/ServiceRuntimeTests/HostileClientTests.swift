import Logging
import NIOCore
import NIOHTTP1
import TestSupport
import Testing

@testable import ServiceRuntime

/// Clients that break the protocol, hold connections without using them, or open too many:
/// each case through a real socket, with the raw bytes such a client sends.
@Suite struct HostileClientTests {
    struct EchoRoutes: Routes {
        func route(_ request: Request) -> Routing {
            switch request.segments {
            case ["echo"]: .post(request, .now("/echo") { Response(body: $0.body) })
            case ["hello"]: .get(request, .now("/hello") { _ in .text("hello") })
            case ["slow"]:
                .get(
                    request,
                    .task("/slow") { _ in
                        try await Task.sleep(for: .milliseconds(100))
                        return .text("slow")
                    })
            case ["big"]: .get(request, .now("/big") { _ in Response(body: HostileClientTests.bigBody) })
            case ["slower"]:
                .get(
                    request,
                    .task("/slower") { _ in
                        try await Task.sleep(for: .milliseconds(1500))
                        return .text("slower")
                    })
            default: .notFound
            }
        }
    }

    /// One buffer every `/big` answer shares: answers queued for a client cost the server little.
    static let bigBody = ByteBuffer(repeating: UInt8(ascii: "b"), count: 256 * 1024)

    static func serve<T: Sendable>(
        maxConnections: Int = 1000, requestTimeout: Duration = .seconds(10), idleTimeout: Duration = .seconds(60),
        _ body: @Sendable (Int) async throws -> T
    ) async throws -> T {
        var config = RuntimeConfig(
            service: .adderservice, host: "127.0.0.1", port: 0, metricsPort: 0, logLevel: .warning, maxConnections: maxConnections
        )
        config.requestTimeout = requestTimeout
        config.idleTimeout = idleTimeout
        return try await ServiceRuntime(config: config).makeApplication(routes: EchoRoutes()).withRunning { ports in
            try await body(try #require(ports.main))
        }
    }

    /// Sends `bytes`, optionally half-closes, and reads until the server closes the connection:
    /// the responses, in the order they came.
    static func exchangeAll(_ port: Int, _ bytes: String, halfClose: Bool = false) async throws -> (
        responses: [TestHTTPResponse], closed: Bool
    ) {
        let connection = try RawConnection(port: port)
        defer { connection.close() }
        try connection.send(bytes)
        if halfClose { connection.shutdownWrite() }
        let (answer, closed) = await connection.readUntilClosed(timeout: .seconds(5))
        var responses: [TestHTTPResponse] = [], rest = answer
        while let response = TestHTTPResponse.parse(rest) {
            responses.append(response)
            rest = response.rest
        }
        return (responses, closed)
    }

    /// The first response of `exchangeAll`.
    static func exchange(_ port: Int, _ bytes: String, halfClose: Bool = false) async throws -> (response: TestHTTPResponse?, closed: Bool)
    {
        let (responses, closed) = try await exchangeAll(port, bytes, halfClose: halfClose)
        return (responses.first, closed)
    }

    @Test(arguments: [
        ("a bad chunk size", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", false),
        ("Transfer-Encoding: identity", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\nhello", false),
        (
            "a Content-Length longer than the body, then a half-close", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\nabc",
            true
        ),
        ("a request line that is not HTTP", "HELLO THERE\r\n\r\n", false),
        ("a header without a colon", "GET /hello HTTP/1.1\r\nHost: x\r\nbroken header\r\n\r\n", false),
        ("two Content-Lengths that disagree", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", false),
    ])
    func malformedRequestsAre400AndTheConnectionCloses(what: String, bytes: String, halfClose: Bool) async throws {
        try await Self.serve { port in
            let (response, closed) = try await Self.exchange(port, bytes, halfClose: halfClose)
            let answer = try #require(response, "\(what): no response")
            #expect(answer.status == .badRequest, "\(what)")
            #expect(answer.text.hasPrefix(#"{"error":"#), "\(what): \(answer.text)")
            #expect(answer.header("connection") == "close", "\(what)")
            #expect(closed, "\(what): the connection stays open")
        }
    }

    /// Well framed, so the connection may stay open; but there is no path to route.
    @Test(arguments: ["/hello%zz", "/hello%C3%28", "*", "http:///hello", "http://?x=1", "ftp://example.com/hello"])
    func aPathThatCannotBeDecodedIs400(path: String) async throws {
        try await Self.serve { port in
            let (response, _) = try await Self.exchange(port, "GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(response?.status == .badRequest, "\(path)")
            #expect(response?.text.hasPrefix(#"{"error":"#) == true, "\(path)")
        }
    }

    /// RFC 9112 §3.2.2: a server accepts absolute-form and routes on the path after the authority;
    /// without a path it asks for `/` (no route here: 404, not 400).
    @Test(arguments: [
        ("http://example.com/hello", HTTPResponseStatus.ok),
        ("HTTPS://example.com:8080/hello?x=1", .ok),
        ("http://example.com/hello%zz", .badRequest),
        ("http://example.com", .notFound),
        ("http://example.com?x=1", .notFound),
    ])
    func anAbsoluteFormTargetIsRoutedOnItsPath(target: String, status: HTTPResponseStatus) async throws {
        try await Self.serve { port in
            let (response, _) = try await Self.exchange(port, "GET \(target) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(response?.status == status, "\(target)")
            #expect(status != .ok || response?.text == "hello", "\(target)")
        }
    }

    /// RFC 9112 §3.2: an HTTP/1.1 request without exactly one Host is a 400. It is well framed,
    /// so the connection serves the next request; header names are case-insensitive.
    @Test(arguments: [
        ("no Host", "", HTTPResponseStatus.badRequest),
        ("two Hosts", "Host: a\r\nHost: b\r\n", .badRequest),
        ("one HOST", "HOST: a\r\n", .ok),
    ])
    func anHTTP11RequestNamesExactlyOneHost(what: String, hostLines: String, status: HTTPResponseStatus) async throws {
        try await Self.serve { port in
            let (responses, _) = try await Self.exchangeAll(
                port, "GET /hello HTTP/1.1\r\n\(hostLines)\r\nGET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            #expect(responses.map(\.status) == [status, .ok], "\(what)")
        }
    }

    @Test func http10WithoutKeepAliveIsAnsweredAndClosed() async throws {
        try await Self.serve { port in
            let (response, closed) = try await Self.exchange(port, "GET /hello HTTP/1.0\r\n\r\n")
            let answer = try #require(response)
            #expect(answer.version == "HTTP/1.0")
            #expect(answer.text == "hello")
            #expect(answer.header("connection") == "close")
            #expect(closed)
        }
    }

    @Test func http10WithKeepAliveStaysOpen() async throws {
        try await Self.serve { port in
            let connection = try RawConnection(port: port)
            defer { connection.close() }
            for _ in 1...2 {
                try connection.send("GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
                let answer = try #require(await connection.readResponse())
                #expect(answer.text == "hello")
                #expect(answer.header("connection") == "keep-alive")
            }
        }
    }

    @Test func connectionCloseIsHonoured() async throws {
        try await Self.serve { port in
            let (response, closed) = try await Self.exchange(port, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            #expect(response?.header("connection") == "close")
            #expect(closed)
        }
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        try await Self.serve { port in
            let bytes =
                "GET /hello HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
                + "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            let (responses, closed) = try await Self.exchangeAll(port, bytes)
            #expect(responses.map(\.text).prefix(2) == ["hello", "abc"])
            #expect(responses.map(\.status).last == .notFound)
            #expect(responses.count == 3)
            #expect(closed)
        }
    }

    /// Requests behind one answered by a task wait for it, and are answered in the order sent.
    @Test func requestsPipelinedBehindATaskWaitTheirTurn() async throws {
        try await Self.serve { port in
            let bytes =
                "GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
                + "GET /slow HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
            let (responses, closed) = try await Self.exchangeAll(port, bytes, halfClose: true)
            #expect(responses.map(\.text) == ["slow", "hello", "slow", "abc"])
            #expect(responses.last?.header("connection") == "close", "the answer to the last request before the half-close")
            #expect(closed)
        }
    }

    /// A client that pipelines a flood behind a request still being answered is not read
    /// meanwhile: the kernel's buffers fill and its sends stall, where the server would
    /// otherwise take the flood into memory.
    @Test func aFloodPipelinedBehindATaskIsNotReadMeanwhile() async throws {
        try await Self.serve { port in
            let connection = try RawConnection(port: port)
            defer { connection.close() }
            try connection.send("GET /slower HTTP/1.1\r\nHost: x\r\n\r\n")
            let padded = "GET /hello HTTP/1.1\r\nHost: x\r\nX-Pad: \(String(repeating: "p", count: 4000))\r\n\r\n"
            let flood = Array(String(repeating: padded, count: 16_000).utf8)  // 64 MB
            let accepted = await connection.send(flood, stoppingAfter: .seconds(1))
            #expect(accepted < 8 << 20, "\(accepted) bytes taken while an answer was pending")
            #expect(try #require(await connection.readResponse()).text == "slower")
        }
    }

    /// A client that pipelines requests and never reads the answers is not read either once its
    /// answers back up, where the server would otherwise go on reading and queueing answers.
    @Test func aClientThatDoesNotReadItsAnswersIsNotReadEither() async throws {
        try await Self.serve { port in
            let connection = try RawConnection(port: port)
            defer { connection.close() }
            let padded = "GET /big HTTP/1.1\r\nHost: x\r\nX-Pad: \(String(repeating: "p", count: 4000))\r\n\r\n"
            let flood = Array(String(repeating: padded, count: 16_000).utf8)  // 64 MB asking for 4 GB
            let accepted = await connection.send(flood, stoppingAfter: .seconds(1))
            #expect(accepted < 16 << 20, "\(accepted) bytes taken while the answers went unread")
        }
    }

    /// Broken bytes behind a request still being answered: that answer first, then the 400.
    @Test func aMalformedRequestPipelinedBehindATaskIsRefusedInItsTurn() async throws {
        try await Self.serve { port in
            let (responses, closed) = try await Self.exchangeAll(port, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\nHELLO THERE\r\n\r\n")
            #expect(responses.map(\.status) == [.ok, .badRequest])
            #expect(responses.first?.text == "slow")
            #expect(responses.last?.header("connection") == "close")
            #expect(closed)
        }
    }

    @Test func aRequestThatNeverCompletesIsClosedAfterTheRequestTimeout() async throws {
        try await Self.serve(requestTimeout: .seconds(1)) { port in
            let connection = try RawConnection(port: port)
            try connection.send("GET /hel")
            let start = ContinuousClock.now
            let (_, closed) = await connection.readUntilClosed(timeout: .seconds(5))
            let elapsed = start.duration(to: .now)
            #expect(closed)
            #expect(elapsed > .milliseconds(800) && elapsed < .seconds(3), "\(elapsed)")
        }
    }

    /// The start of a request pipelined behind a complete one is a request head like any other:
    /// it must arrive whole within the request limit, not the idle one.
    @Test func aPartialRequestPipelinedBehindACompleteOneIsClosedAfterTheRequestTimeout() async throws {
        try await Self.serve(requestTimeout: .seconds(1), idleTimeout: .seconds(30)) { port in
            let connection = try RawConnection(port: port)
            defer { connection.close() }
            try connection.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHo")
            let start = ContinuousClock.now
            let (answer, closed) = await connection.readUntilClosed(timeout: .seconds(10))
            let elapsed = start.duration(to: .now)
            #expect(TestHTTPResponse.parse(answer)?.text == "hello")
            #expect(closed, "still open after 10 s")
            #expect(elapsed > .milliseconds(800) && elapsed < .seconds(5), "\(elapsed)")
        }
    }

    /// A body that ends the read ends its request: the connection is idle, not timed like a head.
    @Test func aKeepAliveConnectionIsIdleAfterARequestWithABody() async throws {
        try await Self.serve(requestTimeout: .milliseconds(500), idleTimeout: .seconds(30)) { port in
            let connection = try RawConnection(port: port)
            defer { connection.close() }
            try connection.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
            #expect(await connection.readResponse()?.text == "abc")
            try await Task.sleep(for: .milliseconds(1500))  // past the request limit, within the idle one
            try connection.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await connection.readResponse()?.text == "hello", "closed although only idle")
        }
    }

    @Test func aSilentConnectionIsClosedAfterTheRequestTimeout() async throws {
        try await Self.serve(requestTimeout: .seconds(1)) { port in
            let connection = try RawConnection(port: port)
            let (_, closed) = await connection.readUntilClosed(timeout: .seconds(4))
            #expect(closed)
        }
    }

    /// Between requests the idle limit applies, and a request begun on an idle connection has the
    /// request limit again.
    @Test func anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout() async throws {
        // Wide margins: while the whole suite starts on two cores a 1.2 s sleep has overslept by 0.8 s.
        try await Self.serve(requestTimeout: .milliseconds(500), idleTimeout: .seconds(4)) { port in
            let connection = try RawConnection(port: port)
            try connection.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await connection.readResponse()?.text == "hello")
            try await Task.sleep(for: .milliseconds(1200))  // past the request limit, within the idle one
            try connection.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(await connection.readResponse()?.text == "hello", "closed although only idle")
            let start = ContinuousClock.now
            let (_, closed) = await connection.readUntilClosed(timeout: .seconds(8))
            #expect(closed)
            #expect(start.duration(to: .now) > .seconds(3), "closed before the idle timeout")
        }
    }

    @Test func beyondTheCapNewConnectionsAreRefusedAtOnce() async throws {
        try await Self.serve(maxConnections: 4) { port in
            let held = try (1...4).map { _ in try RawConnection(port: port) }
            try await Task.sleep(for: .milliseconds(200))
            let start = ContinuousClock.now
            let (refused, closed) = try await Self.exchange(port, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(refused?.status == .serviceUnavailable)
            #expect(closed)
            #expect(start.duration(to: .now) < .seconds(3), "refused at once, not after a timeout")
            held[0].close()
            let served = await eventually(timeout: .seconds(5)) {
                (try? await Self.exchange(port, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").response?.text) == "hello"
            }
            #expect(served, "a slot freed by a closed connection is used again")
            for connection in held { connection.close() }
        }
    }

    @Test func headAnswersWithoutABodyAndAWrongMethodIs405() async throws {
        try await Self.serve { port in
            let connection = try RawConnection(port: port)
            defer { connection.close() }
            try connection.send("HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            let head = try #require(await connection.readResponse(bodyExpected: false))
            #expect(head.status == .ok)
            #expect(head.header("content-length") == "5")
            try connection.send("DELETE /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            let refused = try #require(await connection.readResponse())
            #expect(refused.status == .methodNotAllowed)
            #expect(refused.header("allow") == "GET, HEAD")
        }
    }

    /// Nothing here upgrades a connection, and NIO's decoder reads no further after such a
    /// request: it is answered as usual and the connection closed, so no next request hangs on it.
    @Test(arguments: [
        "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", "CONNECT x:443 HTTP/1.1\r\nHost: x\r\n\r\n",
    ])
    func aRequestToUpgradeTheConnectionIsAnsweredAndClosed(request: String) async throws {
        try await Self.serve { port in
            let (responses, closed) = try await Self.exchangeAll(port, request + "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            #expect(responses.count == 1)
            #expect(responses.first?.header("connection") == "close")
            #expect(closed, "the connection stays open, and a request sent on it is never read")
        }
    }

    /// A client that asks before sending its body hears `100 Continue`; one whose declared body
    /// is over the limit hears 413 instead and sends nothing.
    @Test func expectContinueIsAnsweredBeforeTheBody() async throws {
        try await Self.serve { port in
            let connection = try RawConnection(port: port)
            defer { connection.close() }
            try connection.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n")
            let interim = try #require(await connection.readResponse(timeout: .seconds(2), bodyExpected: false))
            #expect(interim.status == .continue)
            try connection.send("abc")
            #expect(try #require(await connection.readResponse()).text == "abc")
            let tooLarge = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\nExpect: 100-continue\r\n\r\n"
            let (refused, _) = try await Self.exchange(port, tooLarge)
            #expect(refused?.status == .payloadTooLarge)
        }
    }

    /// Small bodies are copied behind the head, larger ones written after it; both arrive whole.
    @Test(arguments: [10, ResponseEncoding.copyLimit, ResponseEncoding.copyLimit + 1, 60_000])
    func bodiesOfEverySizeArriveWholeBehindTheirHead(size: Int) async throws {
        try await Self.serve { port in
            let body = String((0..<size).map { _ in "abcdefghij".randomElement() ?? "a" })
            let (responses, _) = try await Self.exchangeAll(
                port,
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: \(size)\r\n\r\n\(body)"
                    + "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            )
            #expect(responses.first?.header("content-length") == String(size))
            #expect(responses.map(\.text) == [body, "hello"])
        }
    }
}
