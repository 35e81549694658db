import Discovery
import Hummingbird
import Logging
import HummingbirdTesting
import Logging
import ServiceRuntime
import Testing

struct Unreachable: Error, CustomStringConvertible {
    var description: String { "connection refused" }
}

@Suite struct OperationalRoutesTests {
    func app(readiness: [ReadinessCheck] = [], maxBodySize: Int = 64 * 1024) -> some ApplicationProtocol {
        let runtime = ServiceRuntime(config: .init(service: .adderservice, port: 0, logLevel: .warning, maxBodySize: maxBodySize))
        let router = runtime.makeRouter(readiness: readiness)
        router.post("/echo") { request, _ in
            var request = request
            return try await request.collectBody(upTo: .max)
        }
        return runtime.makeApplication(router: router)
    }

    @Test func healthzAnswers() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body) == #"{"status":"ok"}"#)
            }
        }
    }

    @Test func readyzIsReadyWhenEveryCheckPasses() async throws {
        try await app(readiness: [ReadinessCheck("mongo") {}]).test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains(#""mongo":"ok""#))
            }
        }
    }

    @Test func readyzIs503NamingTheFailingCheck() async throws {
        let checks = [ReadinessCheck("redis") {}, ReadinessCheck("mongo") { throw Unreachable() }]
        try await app(readiness: checks).test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                let body = String(buffer: response.body)
                #expect(body.contains(#""error":"not ready: mongo: connection refused""#), "\(body)")
                #expect(body.contains(#""redis":"ok""#))
            }
        }
    }

    @Test func readyzTimesOutAHangingCheck() async throws {
        let hanging = ReadinessCheck("dns") { try await Task.sleep(for: .seconds(60)) }
        let start = ContinuousClock.now
        try await app(readiness: [hanging]).test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(String(buffer: response.body).contains("no answer within"))
            }
        }
        #expect(start.duration(to: .now) < .seconds(10))
    }

    @Test func metricsCountRequestsPerRouteAndStatus() async throws {
        try await app().test(.router) { client in
            let before = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            try await client.execute(uri: "/healthz", method: .get) { _ in }
            try await client.execute(uri: "/healthz", method: .get) { _ in }
            let after = try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
                return String(buffer: response.body)
            }
            let series = #"http_server_requests_total{http_route="/healthz",http_request_method="GET",http_response_status_code="200"}"#
            #expect(Self.value(of: series, in: after) >= Self.value(of: series, in: before) + 2, "\(after)")
            #expect(after.contains(#"http_server_request_duration_seconds_bucket{http_route="/healthz""#))
        }
    }

    /// A thrown error (here the router's 404) is counted and timed under its status, like a response.
    @Test func metricsCountErrorsWithTheirStatus() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/no-such-page", method: .get) { _ in }
            let text = try await client.execute(uri: "/metrics", method: .get) { String(buffer: $0.body) }
            let labels = #"{http_route="NotFound",http_request_method="GET",http_response_status_code="404"}"#
            #expect(Self.value(of: "http_server_requests_total" + labels, in: text) >= 1, "\(text)")
            #expect(Self.value(of: "http_server_request_duration_seconds_count" + labels, in: text) >= 1, "\(text)")
        }
    }

    @Test func unknownRouteIsJSON404() async throws {
        try await app().test(.router) { client in
            try await client.execute(uri: "/nope", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(String(buffer: response.body) == #"{"error":"not found"}"#)
            }
        }
    }

    @Test func bodyOverTheLimitIs413() async throws {
        try await app(maxBodySize: 1024).test(.live) { client in
            try await client.execute(uri: "/echo", method: .post, body: ByteBuffer(repeating: 0x41, count: 1025)) { response in
                #expect(response.status == .contentTooLarge)
                #expect(String(buffer: response.body).contains("over 1024 bytes"))
            }
            try await client.execute(uri: "/echo", method: .post, body: ByteBuffer(repeating: 0x41, count: 1024)) { response in
                #expect(response.status == .ok)
                #expect(response.body.readableBytes == 1024)
            }
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
