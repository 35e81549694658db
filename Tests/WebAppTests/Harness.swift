import AsyncHTTPClient
import Discovery
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceRuntime
import Synchronization
import TestSupport
@testable import WebApp

/// An event sink in memory, for the page tests that only need to see what was recorded.
/// (The tests against a real redis-server use `RedisEventSink`.)
final class MemoryEventSink: EventSink {
    let messages = Synchronization.Mutex<[String]>([])
    func push(_ batch: [String]) async throws { messages.withLock { $0.append(contentsOf: batch) } }
}

/// The webapp wired to loopback test servers: adderservice and auditservice as small Hummingbird
/// apps on kernel-chosen ports, the shared HTTPClient, and the background recorders.
struct Harness: Sendable {
    let adder = TestAdder()
    let audit = TestAudit()
    let adderServer: LoopbackServer
    let auditServer: LoopbackServer
    let http: HTTPClient
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
        adderServer = try await LoopbackServer.start(adder.router())
        auditServer = try await LoopbackServer.start(audit.router())
        http = ServiceHTTP.makeClient()
        logs = CapturedLogs()
    }

    private func shutdown() async {
        await adderServer.stop()
        await auditServer.stop()
        try? await http.shutdown()
    }

    var adderTarget: ServiceTarget { ServiceTarget(host: "127.0.0.1", port: adderServer.port) }
    var auditTarget: ServiceTarget { ServiceTarget(host: "127.0.0.1", port: auditServer.port) }

    /// Short retries and a short shutdown drain, so tests about failures finish quickly.
    static var quickAuditSettings: AuditRecorder.Settings {
        var settings = AuditRecorder.Settings()
        settings.backoff = Backoff(initial: .milliseconds(20), maximum: .milliseconds(200))
        settings.drainTimeout = .seconds(2)
        return settings
    }

    static let runtime = ServiceRuntime(config: RuntimeConfig(service: .webapp, host: "127.0.0.1", port: 0))

    /// A loopback port nothing listens on: a service that is down.
    static func closedTarget() -> ServiceTarget { ServiceTarget(host: "127.0.0.1", port: Ports.free()) }

    /// The webapp's router and background services; `adderTargets`/`auditTargets` choose where
    /// the calls go (default: the test servers).
    func makeApp(
        adderTargets: [ServiceTarget]? = nil, auditTargets: [ServiceTarget]? = nil,
        adderSelector: (any TargetSelector)? = nil,
        sink: any EventSink = MemoryEventSink(), events: EventRecorder.Settings = .init(),
        audit auditSettings: AuditRecorder.Settings? = nil, auditParking: (any AuditParking)? = nil,
        extraRoutes: (Router<BasicRequestContext>) -> Void = { _ in }
    ) throws -> (app: some ApplicationProtocol, dependencies: WebAppDependencies) {
        let adderList = adderTargets ?? [adderTarget]
        let auditList = auditTargets ?? [auditTarget]
        let logger = logs.logger(label: "webapp")
        let adder = AdderClient(client: ServiceHTTPClient(
            service: "adderservice", http: http,
            selector: adderSelector ?? ListedTargets(service: "adderservice") { adderList }
        ))
        let audit = AuditClient(client: ServiceHTTPClient(
            service: "auditservice", http: http, selector: ListedTargets(service: "auditservice") { auditList }
        ))
        let auditSettings = auditSettings ?? Self.quickAuditSettings
        let dependencies = WebAppDependencies(
            adder: adder, audit: audit,
            auditRecorder: AuditRecorder(audit: audit, parking: auditParking, settings: auditSettings, logger: logger),
            events: EventRecorder(sink: sink, settings: events, logger: logger)
        )
        // The runtime's router, so the pages sit behind the same middlewares as in production.
        let pages = try PageRenderer()
        let router = WebAppRoutes.makeRouter(runtime: Self.runtime, pages: pages)
        WebAppRoutes.add(to: router, pages: pages, dependencies: dependencies)
        extraRoutes(router)
        let app = Application(
            router: router, services: [dependencies.auditRecorder, dependencies.events], logger: logger
        )
        return (app, dependencies)
    }
}

/// The add form's encoding of `text`, as a browser sends it: `+` for spaces, `%XX` for the rest.
func formEncode(_ text: String) -> String {
    var allowed = CharacterSet.alphanumerics
    allowed.insert(charactersIn: "-._*")
    return (text.addingPercentEncoding(withAllowedCharacters: allowed) ?? "").replacingOccurrences(of: "%20", with: "+")
}

extension TestClientProtocol {
    /// Submits the add form as a browser would.
    func submitAdd(first: String, second: String) async throws -> TestResponse {
        let body = "first=\(formEncode(first))&second=\(formEncode(second))"
        return try await execute(
            uri: "/add/calculate", method: .post,
            headers: [.contentType: "application/x-www-form-urlencoded"],
            body: ByteBuffer(string: body)
        )
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
}
