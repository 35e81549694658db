import NIOCore
import NIOExtras
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// The control socket of a running `localenv` or `rehearse up`: a Unix socket, owner-only
/// (0600), on NIO's shared event loops. Each connection carries one `ControlRequest` line and
/// gets one `ControlReply` line, whenever the handler has it (`rehearse run job` waits for a Job).
public final class ControlServer: Sendable {
    /// What a connection may cost the server, whatever its client does.
    public struct Limits: Sendable {
        /// The longest request line; longer is answered with an error and closed.
        public var requestBytes: Int
        /// From connecting to the end of the request line.
        public var requestTime: Duration
        /// For the client to take the whole reply; one that does not read is closed.
        public var replyTime: Duration

        /// 16 MiB: a rendered manifest for `rehearse apply` travels as an argument (the local
        /// overlay's is under 100 kB).
        public init(requestBytes: Int = 16 << 20, requestTime: Duration = .seconds(10), replyTime: Duration = .seconds(30)) {
            self.requestBytes = requestBytes
            self.requestTime = requestTime
            self.replyTime = replyTime
        }
    }

    public let path: String
    private let channel: any Channel

    private init(path: String, channel: any Channel) {
        self.path = path
        self.channel = channel
    }

    /// Listens on `path`. A file left by a server that died is replaced; a live server is not.
    public static func start(
        path: String, limits: Limits = Limits(),
        handler: @escaping @Sendable (ControlRequest) async -> ControlReply
    ) async throws(ControlSocketError) -> ControlServer {
        if ControlClient.isAnswering(path: path) { throw .alreadyRunning(path: path) }
        unlink(path)
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            // A client may shut its side down after its request and still read the reply.
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers(
                        ByteToMessageHandler(LineBasedFrameDecoder(), maximumBufferSize: limits.requestBytes),
                        ControlConnection(limits: limits, handler: handler)
                    )
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(unixDomainSocketPath: path).get()
        } catch {
            throw .cannotListen(path: path, reason: "\(error)")
        }
        // Whoever can connect can stop services or pods: the owner only (root for the rehearsal).
        guard chmod(path, 0o600) == 0 else {
            let reason = String(cString: strerror(errno))
            try? await channel.close()
            throw .cannotListen(path: path, reason: "chmod: \(reason)")
        }
        return ControlServer(path: path, channel: channel)
    }

    /// Stops listening and removes the socket file; replies in flight are still written.
    public func stop() async {
        try? await channel.close()
        unlink(path)
    }
}
