import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Platform
import ServiceLifecycle
import Synchronization

/// The HTTP/1 server: on each connection NIO's HTTP/1 decoder and the runtime's request handler. A `Service`: it runs until graceful shutdown, then for
/// `closeNotice` answers every request with `Connection: close`, then stops accepting, closes
/// idle connections and lets the others finish their request (ConnectionRegistry); at the end of
/// the drain budget (the service group's cancellation) it closes what is left.
final class HTTPServer: Service, Sendable {
    struct Settings: Sendable {
        /// The port's name in the service table (`main`, `http`, `metrics`), for the log.
        var name = "main"
        var host: String
        var port: Int
        var maxConnections: Int
        var limits = ConnectionStateMachine.Limits()
        /// How long after graceful shutdown begins every answer says `Connection: close` before
        /// idle connections are closed (`CloseNotice`).
        var closeNotice: Duration = .zero
        /// Set while the port accepts connections.
        var listening: ListeningFlag?
    }

    private let settings: Settings
    private let server: ServerContext
    private let registry: ConnectionRegistry
    private let notice = CloseNotice()
    private let group = MultiThreadedEventLoopGroup.singleton
    /// The port actually bound (the configured one, or the kernel's choice for port 0).
    let boundPort: EventLoopPromise<Int>

    init(settings: Settings, server: ServerContext) {
        self.settings = settings
        self.server = server
        self.registry = ConnectionRegistry(limit: settings.maxConnections)
        self.boundPort = group.any().makePromise(of: Int.self)
    }

    func run() async throws {
        defer { boundPort.fail(ServerStopped()) }  // a no-op once the port is known
        let channel: any Channel
        do {
            channel = try await bootstrap().bind(host: settings.host, port: settings.port).get()
        } catch {
            throw ListenFailure(port: settings.port, error: error)
        }
        boundPort.succeed(channel.localAddress?.port ?? settings.port)
        settings.listening?.set(true)
        server.logger.info(
            "listening", metadata: ["port": "\(channel.localAddress?.port ?? settings.port)", "port_name": "\(settings.name)"])
        try? await gracefulShutdown()
        if settings.closeNotice > .zero, !Task.isCancelled {
            server.logger.info("shutting down: answering with Connection: close, then draining")
            notice.give()
            try? await Task.sleep(for: settings.closeNotice)
        }
        settings.listening?.set(false)
        try? await channel.close()
        let drained = channel.eventLoop.makePromise(of: Void.self)
        registry.quiesce(drained: drained)
        // The service group cancels at the end of the drain budget (ServiceRuntime.drainLimit).
        await withTaskCancellationHandler {
            try? await drained.futureResult.get()
        } onCancel: { [registry] in
            registry.closeAll()
        }
    }

    private func bootstrap() -> ServerBootstrap {
        let server = server, registry = registry, limits = settings.limits, notice = notice
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 512)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelInitializer { channel in
                // Out of descriptors (EMFILE) the listening socket stays readable: without a pause
                // before the next accept the event loop would spin on it.
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptBackoffHandler())
                }
            }
            // TCP_NODELAY lives at IPPROTO_TCP: `.socketOption(.tcp_nodelay)` would set SO_DEBUG (the same number at
            // SOL_SOCKET), which needs CAP_NET_ADMIN and made every connection fail as non-root.
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            // A read takes at most 2 kB (NIO's first read, which it would grow to 64 kB), one read
            // per wake-up: all a connection holds of what a client pipelines is one read's
            // requests (ConnectionStateMachine), and all it answers in one turn of its event loop,
            // so a pipelining client delays the others little; the rest waits in the kernel.
            .childChannelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 64, initial: 2048, maximum: 2048))
            .childChannelOption(.maxMessagesPerRead, value: 1)
            // Answers a client has not read wait in the kernel's send buffer, which grows to 4 MB a
            // connection by default (tcp_wmem), counted against the pod's memory and filled with
            // thousands of answers before the connection sees it back up; then in NIO's write
            // buffer, 64 kB before the channel turns unwritable. 16 kB each (the kernel doubles its
            // own) cut off a client that reads nothing after ~50 kB; a larger answer still goes
            // out whole, over more wake-ups.
            .childChannelOption(.socketOption(.so_sndbuf), value: 16 * 1024)
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 8 * 1024, high: 16 * 1024))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard registry.admit(channel) else {
                        try channel.pipeline.syncOperations.addHandler(ConnectionRefusal())
                        return
                    }
                    // NIO's decoder; the handler behind it encodes responses and keeps pipelined
                    // requests in order itself (HTTPConnectionHandler, ResponseEncoding).
                    let connection = HTTPConnectionHandler(server: server, limits: limits, notice: notice)
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(ObservedRequestDecoder(connection: connection)))
                    try channel.pipeline.syncOperations.addHandler(connection)
                }
            }
    }
}

/// The moment after SIGTERM in which every answer says `Connection: close`, for the connections
/// of one server.
///
/// A graceful shutdown closes each idle keep-alive connection at once, and a busy client has
/// often already sent its next request on it: that request fails (the cluster rehearsal lost one
/// per wrk connection in every webapp rollout). Closing after an answer instead tells the client
/// to reconnect between requests — by then to another pod.
final class CloseNotice: Sendable {
    private let given = Atomic(false)

    var isGiven: Bool { given.load(ordering: .relaxed) }

    func give() { given.store(true, ordering: .relaxed) }
}

/// Whether a server accepts connections, for the readiness of another: the admin port's
/// `/readyz` answers 200 only while the service's own port accepts, so the kubelet never sends
/// traffic to a pod whose admin port came up first.
final class ListeningFlag: Sendable {
    private let value = Atomic(false)

    var isSet: Bool { value.load(ordering: .relaxed) }

    func set(_ listening: Bool) { value.store(listening, ordering: .relaxed) }

    /// A readiness check that fails while the port does not accept connections.
    func check(port: Int) -> ReadinessCheck {
        ReadinessCheck("listening") { [self] in
            guard isSet else { throw NotListening(port: port) }
        }
    }

    struct NotListening: Error, CustomStringConvertible {
        let port: Int
        var description: String { "port \(port) does not accept connections" }
    }
}

/// A port the server could not listen on, named: a service listens on two.
struct ListenFailure: Error, CustomStringConvertible {
    let port: Int
    let error: any Error

    var description: String {
        if let io = error as? IOError, io.errnoCode == EADDRINUSE {
            return "cannot listen on port \(port): it is already in use"
        }
        return "cannot listen on port \(port): \(error)"
    }
}

struct ServerStopped: Error, CustomStringConvertible {
    var description: String { "the server stopped before it was listening" }
}

/// A connection over the cap: one 503 and closed at once, so the client neither waits nor
/// retries into a queue, and the descriptor is free again.
final class ConnectionRefusal: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer

    private static let answer =
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json; charset=utf-8\r\n"
        + "content-length: 33\r\nconnection: close\r\n\r\n{\"error\":\"too many connections\"}\n"

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        context.writeAndFlush(NIOAny(ByteBuffer(string: Self.answer))).whenComplete { _ in channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
