import AsyncHTTPClient
import Discovery
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import RedisAdapter
import TestSupport
import Testing

@testable import WebApp

#if canImport(Glibc)
import Glibc
#endif

/// The built `webapp` executable: finds adderservice and Redis through dnsmasq, serves a
/// calculation, records the page views in Redis, and exits 0 on SIGTERM.
@Suite(.stopsServers) struct WebAppProcessTests {
    @Test func executableServesPagesRecordsEventsAndStopsOnSIGTERM() async throws {
        try await Harness.with { harness in
            let redis = try await RedisServer.start()
            let webapp = try await ServiceProcess.start(
                "webapp",
                finding: ["adderservice": harness.adderServer.port, "auditservice": harness.auditServer.port, "redis": redis.port],
                logLevel: "info"
            )
            let base = "http://127.0.0.1:\(webapp.port)"

            var request = HTTPClientRequest(url: base + "/add/calculate")
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: "first=40&second=2"))
            let response = try await harness.http.execute(request, timeout: .seconds(10))
            let page = String(buffer: try await response.body.collect(upTo: 1 << 20))
            #expect(response.status == .ok)
            #expect(page.contains("40 + 2 = <strong>42</strong>"), "\(page.prefix(500))\n\(webapp.log())")
            let ready = try await harness.http.execute(
                HTTPClientRequest(url: "http://127.0.0.1:\(webapp.metricsPort)/readyz"), timeout: .seconds(10))
            #expect(ready.status == .ok)

            let client = RedisClient(endpoint: { .init(host: "127.0.0.1", port: redis.port) }, logger: Logger(label: "test"))
            let recorded = await eventually { await RedisEventTests.length(client) == 1 }
            #expect(recorded, "webapp log:\n\(webapp.log())")
            let urls = try await RedisEventTests.urls(client)
            #expect(urls == ["/add/calculate"])
            let audited = await eventually(timeout: .seconds(10)) { harness.audit.stored.count == 1 }
            #expect(audited, "webapp log:\n\(webapp.log())")

            webapp.signal(SIGTERM)
            let status = await webapp.waitForExit(timeout: .seconds(12))
            #expect(status == 0, "webapp log:\n\(webapp.log())")
        }
    }

    /// The public port (the one the LoadBalancer or NodePort exposes) serves the pages and nothing
    /// operational; the admin port serves /metrics, /healthz and /readyz and no page.
    @Test func metricsAndProbesAnswerOnlyOnTheAdminPort() async throws {
        try await Harness.with { harness in
            let redis = try await RedisServer.start()
            let webapp = try await ServiceProcess.start(
                "webapp",
                finding: ["adderservice": harness.adderServer.port, "auditservice": harness.auditServer.port, "redis": redis.port]
            )
            func get(_ path: String, port: Int) async throws -> TestHTTPResponse? {
                let connection = try RawConnection(port: port)
                defer { connection.close() }
                try connection.send("GET \(path) HTTP/1.1\r\nHost: webapp\r\nConnection: close\r\n\r\n")
                return await connection.readResponse()
            }
            for path in ["/metrics", "/healthz", "/readyz", "/metrics?x=1", "/METRICS"] {
                #expect(try await get(path, port: webapp.port)?.status.code == 404, "public port \(path)")
            }
            #expect(try await get("/add", port: webapp.port)?.status.code == 200)
            let metrics = try await get("/metrics", port: webapp.metricsPort)
            #expect(metrics?.status.code == 200)
            #expect(metrics?.text.contains("http_server_requests_total") == true)
            #expect(metrics?.text.contains(#"http_route="/add""#) == true, "the page's request is on the admin port's /metrics")
            #expect(try await get("/healthz", port: webapp.metricsPort)?.status.code == 200)
            #expect(try await get("/add", port: webapp.metricsPort)?.status.code == 404, "no pages on the admin port")
        }
    }
}
