import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import RedisAdapter
import Testing
import TestSupport
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
                "webapp", finding: ["adderservice": harness.adderServer.port, "auditservice": harness.auditServer.port, "redis": redis.port],
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
            let ready = try await harness.http.execute(HTTPClientRequest(url: base + "/readyz"), timeout: .seconds(10))
            #expect(ready.status == .ok)

            let client = RedisClient(endpoint: { ("127.0.0.1", redis.port) }, logger: Logger(label: "test"))
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
}
