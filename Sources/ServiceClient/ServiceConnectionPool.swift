import Discovery
import NIOCore
import NIOHTTP1
import NIOPosix
import Queueing
import Synchronization

/// Keep-alive HTTP/1.1 connections to the services a process calls (the webapp's calls to
/// adderservice and auditservice, every service's span exports), on NIO's own HTTP/1 client
/// codec: a connection carries one call at a time and goes back to its target's idle list after
/// a complete keep-alive reply; any failure closes it.
///
/// Hand-written rather than AsyncHTTPClient: its request path (URL parsing, header validation,
/// tracing span, pool state machine, streamed body) nearly doubles a calculation's instructions
/// (bench/RESULTS.md, "Figures behind the code"). These calls to our own services over plain HTTP need none of that, and the webapp
/// links no TLS (BoringSSL) either.
/// Failing over stays with the caller's `TargetSelector`: a connect that fails throws
/// `ConnectFailed`, the connection failure `ServiceBalancer` fails over on.
public final class ServiceConnectionPool: Sendable {
    /// The most a reply may hold; a larger one fails the call.
    public static let maxReplySize = 1 << 20
    /// Connections idle longer than this are closed rather than reused: below the services' own
    /// 60 s keep-alive limit, so a reused connection is not one the server is about to close.
    static let maxIdleTime = TimeAmount.seconds(30)

    private let group: any EventLoopGroup
    private let connectTimeout: TimeAmount
    private let maxPerTarget: Int
    private let targets = Mutex<[ServiceTarget: TargetConnections]>([:])
    private let isShutDown = Atomic<Bool>(false)

    /// `connectTimeout` is short: a refused or silent target fails over at once to the
    /// balancer's next one. `maxPerTarget` caps the connections open to one target; calls beyond
    /// it wait for one, so a burst of pages cannot spend the webapp's descriptors on outgoing
    /// connections.
    public init(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, connectTimeout: TimeAmount = .milliseconds(500),
        maxPerTarget: Int = 64
    ) {
        self.group = group
        self.connectTimeout = connectTimeout
        self.maxPerTarget = maxPerTarget
    }

    /// Sends one request to `target` and returns its reply, within `timeout` once connected. At
    /// the cap, waiting for a connection takes at most `timeout` too (`NoConnectionFree`).
    /// `headers` are the caller's (content type, trace context; never `Host`); the pool adds
    /// `Host` and `Content-Length`. Cancelling the task closes the connection, which fails the
    /// call at once (the end of a drain budget does not wait for a hung service's deadline).
    public func execute(
        _ method: HTTPMethod, _ path: String, headers: HTTPHeaders = [:], body: ByteBuffer?, to target: ServiceTarget, timeout: TimeAmount
    ) async throws -> ServiceReply {
        let channel = try await checkOut(target, within: timeout)
        let reply = channel.eventLoop.makePromise(of: ServiceReply.self)
        let head = Self.head(method, path, headers: headers, body: body, target: target)
        let call = ServiceCall(head: head, body: body, timeout: timeout, reply: reply)
        channel.writeAndFlush(call, promise: nil)
        do {
            let answer = try await withTaskCancellationHandler {
                try await reply.futureResult.get()
            } onCancel: {
                channel.close(promise: nil)
            }
            if answer.keepAlive { checkIn(channel, to: target) } else { close(channel, of: target) }
            return answer
        } catch {
            close(channel, of: target)
            throw error
        }
    }

    /// Closes the idle connections; calls in flight close theirs when they end.
    public func shutdown() async throws {
        isShutDown.store(true, ordering: .relaxed)
        let channels = targets.withLock { targets in
            targets.keys.flatMap { targets[$0, default: TargetConnections()].takeIdle() }
        }
        for channel in channels { try? await channel.close() }
    }

    private static func head(_ method: HTTPMethod, _ path: String, headers: HTTPHeaders, body: ByteBuffer?, target: ServiceTarget)
        -> HTTPRequestHead
    {
        // One new set, sized once: adding to the caller's (often a shared constant) would copy it.
        var all = HTTPHeaders()
        all.reserveCapacity(headers.count + 2)
        all.add(contentsOf: headers)
        // An IPv6 address is bracketed. (Searched among the bytes: `contains(":")` iterates
        // Characters, ~1,300 instructions a call.)
        var name = target.host
        let host = name.withUTF8 { $0.contains(UInt8(ascii: ":")) } ? "[\(target.host)]" : target.host
        all.add(name: "host", value: "\(host):\(target.port)")
        if let body { all.add(name: "content-length", value: String(body.readableBytes)) }
        return HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: all)
    }

    private func checkOut(_ target: ServiceTarget, within limit: TimeAmount) async throws -> any Channel {
        var stale: [any Channel] = []
        let checkout = targets.withLock { targets in
            targets[target, default: TargetConnections()].checkOut(
                now: .now(), maxOpen: maxPerTarget, maxIdleTime: Self.maxIdleTime, stale: &stale)
        }
        for channel in stale { channel.close(promise: nil) }
        let handed: (any Channel)?
        switch checkout {
        case .reuse(let channel): return channel
        case .connect: handed = nil
        case .wait(let id): handed = try await waitForConnection(to: target, as: id, within: limit)
        }
        if let handed { return handed }
        do {
            return try await connect(target)
        } catch {
            release(target)
            throw error
        }
    }

    /// At the cap: waits for a connection, or a place to open one, until `limit`. A caller that
    /// is cancelled or runs out of time leaves the line at once, and what is freed after goes to
    /// the next caller still waiting.
    private func waitForConnection(to target: ServiceTarget, as id: TargetConnections.WaiterID, within limit: TimeAmount) async throws -> (
        any Channel
    )? {
        do {
            return try await withDeadline(.now + .nanoseconds(limit.nanoseconds), clock: ContinuousClock()) {
                try await self.wait(for: target, as: id)
            }
        } catch is DeadlineExceeded {
            throw NoConnectionFree(target: target, waited: limit)
        }
    }

    private func wait(for target: ServiceTarget, as id: TargetConnections.WaiterID) async throws -> (any Channel)? {
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { waiter in
                // Decided again under the lock that queues the waiter: a connection may have come
                // back since the first look.
                var stale: [any Channel] = []
                let now = targets.withLock { targets -> Result<(any Channel)?, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    let checkout = targets[target, default: TargetConnections()].checkOut(
                        now: .now(), maxOpen: maxPerTarget, maxIdleTime: Self.maxIdleTime, stale: &stale
                    )
                    switch checkout {
                    case .reuse(let channel): return .success(channel)
                    case .connect: return .success(nil)
                    case .wait: targets[target, default: TargetConnections()].enqueue(waiter, id: id)
                    }
                    return nil
                }
                for channel in stale { channel.close(promise: nil) }
                if let now { waiter.resume(with: now) }
            }
        } onCancel: {
            targets.withLock { $0[target]?.cancel(id) }?.resume(throwing: CancellationError())
        }
    }

    /// Callers waiting for a connection to `target`.
    func waiting(for target: ServiceTarget) -> Int {
        targets.withLock { $0[target]?.waiting ?? 0 }
    }

    private func checkIn(_ channel: any Channel, to target: ServiceTarget) {
        guard !isShutDown.load(ordering: .relaxed) else { return close(channel, of: target) }
        let waiter = targets.withLock { $0[target, default: TargetConnections()].checkIn(channel, now: .now()) }
        waiter?.resume(returning: channel)
    }

    private func close(_ channel: any Channel, of target: ServiceTarget) {
        channel.close(promise: nil)
        release(target)
    }

    private func release(_ target: ServiceTarget) {
        let waiter = targets.withLock { $0[target, default: TargetConnections()].release() }
        waiter?.resume(returning: nil)
    }

    /// Nothing is sent before the channel is up, so whatever fails here is a `ConnectFailed`.
    private func connect(_ target: ServiceTarget) async throws -> any Channel {
        do { return try await bootstrap().connect(host: target.host, port: target.port).get() } catch {
            throw ConnectFailed(target: target, error: error)
        }
    }

    private func bootstrap() -> ClientBootstrap {
        ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ServiceReplyHandler())
                }
            }
    }
}

/// No connection to `target` came free within the call's time: nothing was sent, so the balancer
/// may try the next target.
public struct NoConnectionFree: ConnectionFailure, CustomStringConvertible {
    public let target: ServiceTarget
    public let waited: TimeAmount

    public var description: String { "no connection to \(target) free within \(waited)" }
}
