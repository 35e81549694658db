import Discovery
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// Keep-alive HTTP/1.1 connections to the services the webapp calls, on NIO's own HTTP/1 client
/// codec: a connection carries one call at a time and goes back to its target's idle list after
/// a complete keep-alive reply; any failure closes it.
///
/// Hand-written rather than AsyncHTTPClient, measured (callgrind, bench/RESULTS.md, "webapp",
/// session 4): with AsyncHTTPClient's request path (URL parsing, header validation, tracing span,
/// pool state machine, streamed body) for its two calls (the sum and the audit append), a
/// calculation cost 739k instructions; with this, 391k. These calls to our own services over
/// plain HTTP need none of that, and the webapp no longer links TLS (BoringSSL) either.
/// Failing over stays with the caller's `TargetSelector`: a refused or timed-out connect throws
/// NIO's own connect errors, which `ServiceBalancer.isConnectionFailure` recognises.
public final class ServiceConnectionPool: Sendable {
    /// The most a reply may hold; a larger one fails the call.
    static let maxReplySize = 1 << 20
    /// Idle connections kept per target; more are closed after their call.
    static let maxIdlePerTarget = 64
    /// Connections idle longer than this are closed rather than reused: below the services' own
    /// 60 s keep-alive limit, so a reused connection is not one the server is about to close.
    static let maxIdleTime = TimeAmount.seconds(30)

    private struct Idle {
        let channel: any Channel
        let since: NIODeadline
    }

    private let group: any EventLoopGroup
    private let connectTimeout: TimeAmount
    private let idle = Mutex<[ServiceTarget: [Idle]]>([:])
    private let isShutDown = Atomic<Bool>(false)

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, connectTimeout: TimeAmount = .milliseconds(500)) {
        self.group = group
        self.connectTimeout = connectTimeout
    }

    /// Sends one request to `target` and returns its reply, within `timeout` once connected.
    func execute(
        _ method: HTTPMethod, _ path: String, body: ByteBuffer?, to target: ServiceTarget, timeout: TimeAmount
    ) async throws -> ServiceReply {
        let channel = try await checkOut(target)
        let reply = channel.eventLoop.makePromise(of: ServiceReply.self)
        let call = ServiceCall(head: Self.head(method, path, body: body, target: target), body: body, timeout: timeout, reply: reply)
        channel.writeAndFlush(call, promise: nil)
        do {
            let answer = try await reply.futureResult.get()
            if answer.keepAlive { checkIn(channel, to: target) } else { channel.close(promise: nil) }
            return answer
        } catch {
            channel.close(promise: nil)
            throw error
        }
    }

    /// Closes the idle connections; calls in flight close theirs when they end.
    public func shutdown() async throws {
        isShutDown.store(true, ordering: .relaxed)
        let channels = idle.withLock { idle in
            defer { idle.removeAll() }
            return idle.values.flatMap { $0.map(\.channel) }
        }
        for channel in channels { try? await channel.close() }
    }

    private static func head(_ method: HTTPMethod, _ path: String, body: ByteBuffer?, target: ServiceTarget) -> HTTPRequestHead {
        var headers: HTTPHeaders = ["host": "\(target.host):\(target.port)", "accept": "application/json"]
        if let body {
            headers.add(name: "content-type", value: "application/json")
            headers.add(name: "content-length", value: String(body.readableBytes))
        }
        return HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: headers)
    }

    private func checkOut(_ target: ServiceTarget) async throws -> any Channel {
        let now = NIODeadline.now()
        while let reusable = idle.withLock({ $0[target]?.popLast() }) {
            if reusable.channel.isActive, now - reusable.since < Self.maxIdleTime { return reusable.channel }
            reusable.channel.close(promise: nil)
        }
        return try await connect(target)
    }

    private func checkIn(_ channel: any Channel, to target: ServiceTarget) {
        let kept = idle.withLock { idle in
            guard !isShutDown.load(ordering: .relaxed), idle[target, default: []].count < Self.maxIdlePerTarget else { return false }
            idle[target, default: []].append(Idle(channel: channel, since: .now()))
            return true
        }
        if !kept { channel.close(promise: nil) }
    }

    private func connect(_ target: ServiceTarget) async throws -> any Channel {
        try await ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ServiceReplyHandler())
                }
            }
            .connect(host: target.host, port: target.port)
            .get()
    }
}
