import NIOCore
import NIOPosix
import ProcessSupervision

/// In watch mode the launcher holds each service's port (the one DNS names) and forwards every
/// connection to the service's current process, which listens on a free port of its own. A new
/// version then starts beside the old one and gets the new connections from the moment its
/// `/readyz` is green, while the old one finishes the requests it has (the services answer
/// `Connection: close` while they drain), so a rolling restart fails no request.
///
/// Why not SO_REUSEPORT on the services: each listener then has its own accept queue, and the
/// connections still queued at the old process when it closes its socket are reset — the very
/// failures a rolling restart must avoid — and it would need a change in every service.
final class PortForwarder: Sendable {
    let port: Int
    private let target: Locked<Int?>
    private let channel: any Channel

    /// Listens on `host`:`port` (SO_REUSEADDR, as the services would); no target yet.
    static func start(host: String, port: Int) async throws(LauncherError) -> PortForwarder {
        let target = Locked<Int?>(nil)
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 256)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            // Nothing is read from the client until its service connection is there.
            .childChannelOption(.autoRead, value: false)
            .childChannelInitializer { inbound in
                guard let port = target.withLock({ $0 }) else {
                    return inbound.eventLoop.makeFailedFuture(LauncherError("no process to forward to"))
                }
                return connect(inbound, to: port)
            }
        do {
            let channel = try await bootstrap.bind(host: host, port: port).get()
            return PortForwarder(port: port, target: target, channel: channel)
        } catch {
            throw LauncherError("cannot listen on \(host):\(port): \(error)")
        }
    }

    private init(port: Int, target: Locked<Int?>, channel: any Channel) {
        self.port = port
        self.target = target
        self.channel = channel
    }

    /// New connections go to 127.0.0.1:`port` from now on; open ones stay where they are.
    func forward(to port: Int?) { target.withLock { $0 = port } }

    var forwardsTo: Int? { target.withLock { $0 } }

    func close() async { try? await channel.close() }

    /// Connects to the service and glues the two connections together; a refused connection
    /// (the service is restarting) closes the client's.
    private static func connect(_ inbound: any Channel, to port: Int) -> EventLoopFuture<Void> {
        ClientBootstrap(group: inbound.eventLoop)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .connect(host: "127.0.0.1", port: port)
            .flatMapThrowing { outbound in
                let (toClient, toService) = GlueHandler.matchedPair()
                try inbound.pipeline.syncOperations.addHandler(toClient)
                try outbound.pipeline.syncOperations.addHandler(toService)
                try inbound.syncOptions?.setOption(.tcpOption(.tcp_nodelay), value: 1)
                try inbound.syncOptions?.setOption(.autoRead, value: true)
            }
    }
}
