import AdderService
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import TestSupport

/// A Hummingbird app listening on a kernel-chosen loopback port, for the services the webapp
/// calls (adderservice, auditservice) in tests. `stop()` shuts it down like SIGTERM would.
final class LoopbackServer: Sendable {
    let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    private init(port: Int, group: ServiceGroup, task: Task<Void, any Error>) {
        self.port = port
        self.group = group
        self.task = task
    }

    static func start(_ router: Router<BasicRequestContext>) async throws -> LoopbackServer {
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        var logger = Logger(label: "loopback-server")
        logger.logLevel = .critical
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: nil),
            onServerRunning: { channel in
                portContinuation.yield(channel.localAddress?.port ?? 0)
                portContinuation.finish()
            },
            logger: logger
        )
        let group = ServiceGroup(services: [app], logger: logger)
        let task = Task { try await group.run() }
        var iterator = portStream.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            throw TestSupportError("loopback server did not start")
        }
        return LoopbackServer(port: port, group: group, task: task)
    }

    /// Graceful shutdown, as SIGTERM would do it.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }

    deinit { task.cancel() }
}

/// The real adderservice routes (the AdderService library), counting the calls they get.
final class TestAdder: Sendable {
    let calls = Atomic<Int>(0)

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: CountingMiddleware { self.calls.add(1, ordering: .relaxed) })
        AdderRoutes.add(to: router)
        return router
    }

    static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

struct CountingMiddleware<Context: RequestContext>: RouterMiddleware {
    let onRequest: @Sendable () -> Void
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        onRequest()
        return try await next(request, context)
    }
}

/// A small in-memory auditservice for tests: `POST /append`, `GET /list?limit=N` newest first.
/// `failAppends` makes the next N appends answer 503, to exercise the webapp's retries.
final class TestAudit: Sendable {
    struct Stored: Codable, Equatable {
        let ts: Int64
        let calc: String
        let result: Int64
    }
    private struct AppendBody: Decodable {
        let calc: String
        let calcResult: Int64
    }

    let entries = Synchronization.Mutex<[Stored]>([])
    let appendAttempts = Atomic<Int>(0)
    let failAppends = Atomic<Int>(0)

    func preload(_ stored: [Stored]) { entries.withLock { $0.append(contentsOf: stored) } }
    var stored: [Stored] { entries.withLock { $0 } }

    func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.post("/append") { request, context -> Response in
            self.appendAttempts.add(1, ordering: .relaxed)
            if self.failAppends.load(ordering: .relaxed) > 0 {
                self.failAppends.subtract(1, ordering: .relaxed)
                return TestAdder.json(.serviceUnavailable, #"{"error":"database unreachable"}"#)
            }
            let body = try await request.decode(as: AppendBody.self, context: context)
            let ts = Int64(Date().timeIntervalSince1970 * 1000)
            self.entries.withLock { $0.append(Stored(ts: ts, calc: body.calc, result: body.calcResult)) }
            return TestAdder.json(.created, #"{"ok":true}"#)
        }
        router.get("/list") { request, _ -> Response in
            let limit = request.uri.queryParameters.get("limit").flatMap { Int($0) } ?? 10
            let newest = self.entries.withLock { Array($0.sorted { $0.ts > $1.ts }.prefix(limit)) }
            let data = try JSONEncoder().encode(["list": newest])
            return TestAdder.json(.ok, String(decoding: data, as: UTF8.self))
        }
        return router
    }
}
