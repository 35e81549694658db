import Contracts
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import ServiceRuntime
import Synchronization
import TestSupport

@testable import AdderService

/// A ServiceRuntime server on a kernel-chosen loopback port, for the services the webapp calls
/// (adderservice, auditservice) in tests. `stop()` shuts it down like SIGTERM would.
final class LoopbackServer: Sendable {
    let port: Int
    private let stopSignal: AsyncStream<Void>.Continuation
    private let task: Task<Void, any Error>

    private init(port: Int, stopSignal: AsyncStream<Void>.Continuation, task: Task<Void, any Error>) {
        self.port = port
        self.stopSignal = stopSignal
        self.task = task
    }

    static func start(_ routes: some Routes) async throws -> LoopbackServer {
        let runtime = ServiceRuntime(
            config: RuntimeConfig(
                service: MicroService(name: "loopback", port: 0), host: "127.0.0.1", port: 0, metricsPort: 0, logLevel: .critical)
        )
        let app = runtime.makeApplication(routes: routes)
        let (ports, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let (stops, stopContinuation) = AsyncStream.makeStream(of: Void.self)
        let task = Task {
            defer { portContinuation.finish() }
            try await app.withRunning { ports in
                portContinuation.yield(ports.main ?? 0)
                for await _ in stops {}
            }
        }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else {
            task.cancel()
            throw TestSupportError("loopback server did not start")
        }
        return LoopbackServer(port: port, stopSignal: stopContinuation, task: task)
    }

    /// Graceful shutdown, as SIGTERM would do it.
    func stop() async {
        stopSignal.finish()
        _ = await task.result
    }

    deinit { task.cancel() }
}

/// The real adderservice routes (the AdderService library), counting the calls they get.
final class TestAdder: Sendable {
    let calls = Atomic<Int>(0)
    private let received = Synchronization.Mutex<[String]>([])

    /// The `traceparent` headers of the calls, in arrival order.
    var traceparents: [String] { received.withLock { $0 } }

    func routes() -> some Routes {
        CountingRoutes(inner: AdderRoutes()) { request in
            self.calls.add(1, ordering: .relaxed)
            if let traceparent = request.headers.first(name: "traceparent") { self.received.withLock { $0.append(traceparent) } }
        }
    }

    static func json(_ status: HTTPResponseStatus, _ body: String) -> Response {
        Response(status: status, headers: ["content-type": "application/json"], body: ByteBuffer(string: body))
    }
}

/// Calls `onRequest` for every request `inner` routes to one of its routes.
struct CountingRoutes<Inner: Routes>: Routes {
    let inner: Inner
    let onRequest: @Sendable (Request) -> Void

    func route(_ request: Request) -> Routing {
        let routing = inner.route(request)
        if case .route = routing { onRequest(request) }
        return routing
    }
}

/// A small in-memory auditservice for tests: `POST /append`, `POST /append/batch`,
/// `GET /list?limit=N` newest first.
/// `failAppends` makes the next N appends answer 503, to exercise the webapp's retries.
final class TestAudit: Sendable {
    struct Stored: Codable, Equatable {
        let ts: Int64
        let calc: String
        let result: Int64
    }

    let entries = Synchronization.Mutex<[Stored]>([])
    /// Ids stored, so a repeated append stores nothing twice (as auditservice does).
    private let ids = Synchronization.Mutex<Set<String>>([])
    let appendAttempts = Atomic<Int>(0)
    let failAppends = Atomic<Int>(0)
    /// False: `/append/batch` is 404, as on an auditservice from before it (during a rollout).
    let servesBatches = Atomic<Bool>(true)
    /// Appends with these ids are refused (400), as auditservice refuses a malformed record.
    let rejectIDs = Synchronization.Mutex<Set<String>>([])

    func preload(_ stored: [Stored]) { entries.withLock { $0.append(contentsOf: stored) } }
    var stored: [Stored] { entries.withLock { $0 } }

    func routes() -> some Routes { AuditRoutes(audit: self) }

    fileprivate func append(_ request: Request) throws -> Response {
        if let unavailable = attempt() { return unavailable }
        guard let body = try? JSONDecoder().decode(AuditAppend.self, from: Data(request.body.readableBytesView)) else {
            return TestAdder.json(.badRequest, #"{"error":"malformed JSON"}"#)
        }
        if let refusal = store(body) { return TestAdder.json(.badRequest, #"{"error":"\#(refusal)"}"#) }
        return TestAdder.json(.created, #"{"ok":true}"#)
    }

    /// `POST /append/batch`: each record as `append` would take it, the refused ones answered.
    fileprivate func appendBatch(_ request: Request) throws -> Response {
        if let unavailable = attempt() { return unavailable }
        struct Batch: Decodable { let records: [AuditAppend] }
        guard let batch = try? JSONDecoder().decode(Batch.self, from: Data(request.body.readableBytesView)) else {
            return TestAdder.json(.badRequest, #"{"error":"malformed JSON"}"#)
        }
        let refused = batch.records.enumerated().compactMap { index, record -> AuditAppendBatch.Reply.Refusal? in
            store(record).map { .init(index: index, error: $0) }
        }
        let data = try JSONEncoder().encode(AuditAppendBatch.Reply(refused: refused))
        return TestAdder.json(.ok, String(decoding: data, as: UTF8.self))
    }

    /// Counts the attempt; a 503 while `failAppends` lasts.
    private func attempt() -> Response? {
        appendAttempts.add(1, ordering: .relaxed)
        guard failAppends.load(ordering: .relaxed) > 0 else { return nil }
        failAppends.subtract(1, ordering: .relaxed)
        return TestAdder.json(.serviceUnavailable, #"{"error":"database unreachable"}"#)
    }

    /// Stores `body` once per id; returns why it was refused, if it was.
    private func store(_ body: AuditAppend) -> String? {
        if let id = body.id, rejectIDs.withLock({ $0.contains(id) }) { return "invalid id" }
        if let id = body.id, !ids.withLock({ $0.insert(id).inserted }) { return nil }
        let ts = Int64(Date().timeIntervalSince1970 * 1000)
        entries.withLock { $0.append(Stored(ts: ts, calc: body.calc, result: body.result)) }
        return nil
    }

    fileprivate func list(_ request: Request) throws -> Response {
        let limit = request.queryParameter("limit").flatMap { Int($0) } ?? 10
        let newest = entries.withLock { Array($0.sorted { $0.ts > $1.ts }.prefix(limit)) }
        let data = try JSONEncoder().encode(["list": newest])
        return TestAdder.json(.ok, String(decoding: data, as: UTF8.self))
    }
}

private struct AuditRoutes: Routes {
    let audit: TestAudit

    func route(_ request: Request) -> Routing {
        switch request.segments {
        case ["append"]: .post(request, .now("/append") { [audit] in try audit.append($0) })
        case ["append", "batch"] where audit.servesBatches.load(ordering: .relaxed):
            .post(request, .now("/append/batch") { [audit] in try audit.appendBatch($0) })
        case ["list"]: .get(request, .now("/list") { [audit] in try audit.list($0) })
        default: .notFound
        }
    }
}
