import AsyncHTTPClient
import Discovery
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import RedisAdapter
import ServiceClient
import ServiceRuntime
import Synchronization
import TestSupport
import Testing

@testable import WebApp

/// An event sink in memory, for the page tests that only need to see what was recorded.
/// (The tests against a real redis-server use `RedisEventSink`.)
final class MemoryEventSink: EventSink {
    let messages = Synchronization.Mutex<[String]>([])
    func push(_ batch: [String]) async throws { messages.withLock { $0.append(contentsOf: batch) } }
}

/// The webapp wired to loopback test servers: adderservice and auditservice as small ServiceRuntime
/// servers on kernel-chosen ports, the webapp's connection pool, and the background recorders.
struct Harness: Sendable {
    let adder = TestAdder()
    let audit = TestAudit()
    let adderServer: LoopbackServer
    let auditServer: LoopbackServer
    /// The tests' own client, for requests to a webapp process.
    let http: HTTPClient
    /// The webapp's connections to the services.
    let connections: ServiceConnectionPool
    let logs: CapturedLogs

    /// Runs `body` with fresh servers and shuts everything down afterwards.
    static func with<T: Sendable>(_ body: (Harness) async throws -> T) async throws -> T {
        let harness = try await Harness()
        do {
            let result = try await body(harness)
            await harness.shutdown()
            return result
        } catch {
            await harness.shutdown()
            throw error
        }
    }

    private init() async throws {
        adderServer = try await LoopbackServer.start(adder.routes())
        auditServer = try await LoopbackServer.start(audit.routes())
        http = HTTPClient(eventLoopGroupProvider: .singleton)
        connections = ServiceConnectionPool()
        logs = CapturedLogs()
    }

    private func shutdown() async {
        await adderServer.stop()
        await auditServer.stop()
        try? await http.shutdown()
        try? await connections.shutdown()
    }

    var adderTarget: ServiceTarget { ServiceTarget(host: "127.0.0.1", port: adderServer.port) }
    var auditTarget: ServiceTarget { ServiceTarget(host: "127.0.0.1", port: auditServer.port) }

    /// Short pauses, so tests about failures finish quickly.
    static var quickDelivery: AuditDelivery.Settings {
        var settings = AuditDelivery.Settings()
        settings.poll = .milliseconds(20)
        settings.linger = .milliseconds(5)
        settings.backoff = Backoff(initial: .milliseconds(20), maximum: .milliseconds(200))
        return settings
    }

    static let runtime = ServiceRuntime(config: RuntimeConfig(service: .webapp, host: "127.0.0.1", port: 0, metricsPort: 0))

    /// The webapp's runtime on free ports, logging into `logs`.
    var runtime: ServiceRuntime {
        ServiceRuntime(
            config: RuntimeConfig(service: .webapp, host: "127.0.0.1", port: 0, metricsPort: 0), logger: logs.logger(label: "webapp"))
    }

    /// A loopback port nothing listens on: a service that is down.
    static func closedTarget() -> ServiceTarget { ServiceTarget(host: "127.0.0.1", port: Ports.free()) }

    /// An audit outbox in the redis-server on `port`, with the webapp's timeouts.
    static func outbox(redisPort port: Int, settings: AuditOutbox.Settings = .init()) -> AuditOutbox {
        let logger = Logger(label: "outbox")
        return AuditOutbox(
            writer: RedisClient(
                endpoint: { .init(host: "127.0.0.1", port: port) }, logger: logger, connectTimeout: .milliseconds(500),
                commandTimeout: .seconds(1)),
            reader: RedisClient(endpoint: { .init(host: "127.0.0.1", port: port) }, logger: logger), settings: settings
        )
    }

    /// The webapp's server and background services; `adderTargets`/`auditTargets` choose where
    /// the calls go (default: the test servers). Without an `outbox` every calculation is
    /// recorded with auditservice directly.
    func makeApp(
        adderTargets: [ServiceTarget]? = nil, auditTargets: [ServiceTarget]? = nil,
        adderSelector: (any TargetSelector)? = nil,
        sink: any EventSink = MemoryEventSink(), events: EventRecorder.Settings = .init(),
        outbox: AuditOutbox? = nil, delivery: AuditDelivery.Settings = Harness.quickDelivery,
        extraRoutes: (any Routes)? = nil
    ) throws -> (app: ServiceApplication, dependencies: WebAppDependencies) {
        let adderList = adderTargets ?? [adderTarget]
        let auditList = auditTargets ?? [auditTarget]
        let logger = logs.logger(label: "webapp")
        let adder = AdderClient(
            client: ServiceHTTPClient(
                service: "adderservice", http: connections,
                selector: adderSelector ?? ListedTargets(service: "adderservice") { adderList }
            ))
        let audit = AuditClient(
            client: ServiceHTTPClient(
                service: "auditservice", http: connections, selector: ListedTargets(service: "auditservice") { auditList }
            ))
        var recording = AuditRecorder.Settings()
        recording.backoff = Backoff(initial: .milliseconds(20), maximum: .milliseconds(200))
        let dependencies = WebAppDependencies(
            adder: adder, audit: audit,
            auditRecorder: AuditRecorder(outbox: outbox, audit: audit, settings: recording, logger: logger),
            events: EventRecorder(sink: sink, settings: events, logger: logger)
        )
        let deliveries = outbox.map { [AuditDelivery(outbox: $0, audit: audit, settings: delivery, logger: logger)] } ?? []
        // The runtime's server, so the pages are served as in production.
        let pages = PageRenderer()
        let routes = FirstOf(first: extraRoutes, then: WebAppRoutes(pages: pages, dependencies: dependencies))
        let app = runtime.makeApplication(
            routes: routes, errors: WebAppRoutes.errorPages(pages), services: deliveries + [dependencies.events])
        return (app, dependencies)
    }
}

/// The add form's encoding of `text`, as a browser sends it: `+` for spaces, `%XX` for the rest.
func formEncode(_ text: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._*")
    return (text.addingPercentEncoding(withAllowedCharacters: allowed) ?? "").replacingOccurrences(of: "%20", with: "+")
}

/// Test routes ahead of the webapp's own.
struct FirstOf: Routes {
    let first: (any Routes)?
    let then: any Routes

    func route(_ request: Request) -> Routing {
        if let routing = first?.route(request), case .route = routing { return routing }
        return then.route(request)
    }
}

extension ServiceApplication {
    /// Runs the application on free ports while `body` talks to its pages.
    func test<T: Sendable>(_ body: @Sendable (TestHTTPClient) async throws -> T) async throws -> T {
        try await withRunning { ports in try await body(TestHTTPClient(port: try #require(ports.main))) }
    }

    /// The same, with a client of the admin port (`/healthz`, `/readyz`, `/metrics`) too.
    func test<T: Sendable>(admin body: @Sendable (_ pages: TestHTTPClient, _ admin: TestHTTPClient) async throws -> T) async throws -> T {
        try await withRunning { ports in try await body(TestHTTPClient(port: try #require(ports.main)), TestHTTPClient(port: ports.metrics))
        }
    }
}

extension TestHTTPClient {
    /// Submits the add form as a browser would.
    func submitAdd(first: String, second: String) async throws -> TestHTTPResponse {
        let body = "first=\(formEncode(first))&second=\(formEncode(second))"
        return try await execute(
            "POST", "/add/calculate", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: Array(body.utf8)
        )
    }
}
