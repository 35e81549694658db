import Discovery
import Logging
import NIOCore
import NIOHTTP1
import ServiceRuntime
import Synchronization
import TestSupport
import Testing

struct Unreachable: Error, CustomStringConvertible {
    var description: String { "connection refused" }
}

@Suite struct OperationalRoutesTests {
    /// `POST /echo` answers with the body it was sent.
    struct EchoRoutes: Routes {
        func route(_ request: Request) -> Routing {
            request.segments == ["echo"] ? .post(request, .now("/echo") { Response(body: $0.body) }) : .notFound
        }
    }

    func serve<T: Sendable>(
        readiness: [ReadinessCheck] = [], maxBodySize: Int = 64 * 1024, _ body: @Sendable (TestHTTPClient) async throws -> T
    ) async throws -> T {
        let runtime = ServiceRuntime(
            config: .init(service: .adderservice, port: 0, metricsPort: 0, logLevel: .warning, maxBodySize: maxBodySize))
        let app = runtime.makeApplication(routes: EchoRoutes(), readiness: readiness)
        return try await app.withRunning { ports in try await body(TestHTTPClient(port: try #require(ports.main), adminPort: ports.metrics))
        }
    }

    @Test func healthzAnswers() async throws {
        try await serve { client in
            let response = try await client.admin.get("/healthz")
            #expect(response.status == .ok)
            #expect(response.text == #"{"status":"ok"}"#)
        }
    }

    @Test func readyzIsReadyWhenEveryCheckPasses() async throws {
        try await serve(readiness: [ReadinessCheck("mongo") {}]) { client in
            let response = try await client.admin.get("/readyz")
            #expect(response.status == .ok)
            #expect(response.text.contains(#""mongo":"ok""#))
        }
    }

    @Test func readyzIs503NamingTheFailingCheck() async throws {
        let checks = [ReadinessCheck("redis") {}, ReadinessCheck("mongo") { throw Unreachable() }]
        try await serve(readiness: checks) { client in
            let response = try await client.admin.get("/readyz")
            #expect(response.status == .serviceUnavailable)
            let body = response.text
            #expect(body.contains(#""error":"not ready: mongo: connection refused""#), "\(body)")
            #expect(body.contains(#""redis":"ok""#))
        }
    }

    @Test func readyzTimesOutAHangingCheck() async throws {
        let hanging = ReadinessCheck("dns") { try await Task.sleep(for: .seconds(60)) }
        let start = ContinuousClock.now
        try await serve(readiness: [hanging]) { client in
            let response = try await client.admin.get("/readyz")
            #expect(response.status == .serviceUnavailable)
            #expect(response.text.contains("no answer within"))
        }
        #expect(start.duration(to: .now) < .seconds(10))
    }

    /// A check stuck where cancellation cannot reach it (a blocking C call): the answer still
    /// comes at the limit, without waiting for the check.
    @Test func readyzDoesNotWaitForACheckThatIgnoresCancellation() async throws {
        let stuck = StuckCheck()
        let start = ContinuousClock.now
        try await serve(readiness: [ReadinessCheck("mongo") { await stuck.wait() }]) { client in
            let response = try await client.admin.get("/readyz")
            #expect(response.status == .serviceUnavailable)
            #expect(response.text.contains("no answer within"))
        }
        stuck.release()
        #expect(start.duration(to: .now) < .seconds(10))
    }

    @Test func metricsCountRequestsPerRouteAndStatus() async throws {
        try await serve { client in
            let before = try await client.admin.get("/metrics").text
            _ = try await client.admin.get("/healthz")
            _ = try await client.admin.get("/healthz")
            let metrics = try await client.admin.get("/metrics")
            #expect(metrics.header("content-type")?.hasPrefix("text/plain") == true)
            let after = metrics.text
            let series = #"http_server_requests_total{http_route="/healthz",http_request_method="GET",http_response_status_code="200"}"#
            #expect(Self.value(of: series, in: after) >= Self.value(of: series, in: before) + 2, "\(after)")
            #expect(after.contains(#"http_server_request_duration_seconds_bucket{http_route="/healthz""#))
        }
    }

    /// An error answer (here the 404 of an unknown path) is counted and timed under its status, like a response.
    @Test func metricsCountErrorsWithTheirStatus() async throws {
        try await serve { client in
            _ = try await client.get("/no-such-page")
            let text = try await client.admin.get("/metrics").text
            let labels = #"{http_route="NotFound",http_request_method="GET",http_response_status_code="404"}"#
            #expect(Self.value(of: "http_server_requests_total" + labels, in: text) >= 1, "\(text)")
            #expect(Self.value(of: "http_server_request_duration_seconds_count" + labels, in: text) >= 1, "\(text)")
        }
    }

    /// The service's port serves its routes and nothing operational; the admin port serves the
    /// operational routes and none of the service's (raw sockets: what a client sends is what
    /// the server sees).
    @Test func operationalRoutesAnswerOnlyOnTheAdminPort() async throws {
        try await serve { client in
            for path in ["/healthz", "/readyz", "/metrics", "//metrics", "/metrics/", "http://x/metrics"] {
                let response = try await Self.raw("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: client.port)
                #expect(response?.status == .notFound, "service port \(path)")
            }
            for path in ["/healthz", "/readyz", "/metrics"] {
                let response = try await Self.raw("GET \(path) HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", port: client.admin.port)
                #expect(response?.status == .ok, "admin port \(path)")
            }
            let echo = try await Self.raw(
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi", port: client.admin.port)
            #expect(echo?.status == .notFound, "the service's route on the admin port")
            #expect(try await client.execute("POST", "/echo", body: Array("hi".utf8)).text == "hi")
        }
    }

    static func raw(_ request: String, port: Int) async throws -> TestHTTPResponse? {
        let connection = try RawConnection(port: port)
        defer { connection.close() }
        try connection.send(request)
        return await connection.readResponse()
    }

    @Test func unknownRouteIsJSON404() async throws {
        try await serve { client in
            let response = try await client.get("/nope")
            #expect(response.status == .notFound)
            #expect(response.text == #"{"error":"not found"}"#)
        }
    }

    @Test func bodyOverTheLimitIs413() async throws {
        try await serve(maxBodySize: 1024) { client in
            let tooLarge = try await client.execute("POST", "/echo", body: Array(repeating: 0x41, count: 1025))
            #expect(tooLarge.status == .payloadTooLarge)
            #expect(tooLarge.text.contains("over 1024 bytes"))
            let fits = try await client.execute("POST", "/echo", body: Array(repeating: 0x41, count: 1024))
            #expect(fits.status == .ok)
            #expect(fits.body.readableBytes == 1024)
        }
    }

    /// The value of one Prometheus series, 0 when absent.
    static func value(of series: String, in text: String) -> Double {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1)) ?? 0
        }
        return 0
    }
}

/// A check that waits until the test releases it, whether or not it is cancelled.
final class StuckCheck: Sendable {
    private let state = Mutex<(released: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func wait() async {
        await withCheckedContinuation { continuation in
            let released = state.withLock { state in
                if !state.released { state.waiter = continuation }
                return state.released
            }
            if released { continuation.resume() }
        }
    }

    func release() {
        state.withLock { state in
            state.released = true
            defer { state.waiter = nil }
            return state.waiter
        }?.resume()
    }
}
