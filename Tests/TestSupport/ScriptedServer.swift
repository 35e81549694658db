import Discovery
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// A TCP server on loopback that answers every request with fixed bytes, or never; it counts
/// the connections it accepts and keeps the bytes it received.
public struct ScriptedServer: Sendable {
    public final class State: Sendable {
        public let connections = Atomic<Int>(0)
        /// What the current connection sent since its last answer (or everything, unanswered).
        public let received = Mutex("")
    }

    public let state = State()
    private let channel: any Channel

    public var target: ServiceTarget { ServiceTarget(host: "127.0.0.1", port: channel.localAddress?.port ?? 0) }

    private init(reply: String?, closeAfterReply: Bool) async throws {
        let state = self.state
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                state.connections.add(1, ordering: .relaxed)
                return child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.addHandler(
                        ScriptedReplyHandler(reply: reply, closeAfterReply: closeAfterReply, state: state)
                    )
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    public static func with(reply: String?, closeAfterReply: Bool = false, _ body: (ScriptedServer) async throws -> Void) async throws {
        let server = try await ScriptedServer(reply: reply, closeAfterReply: closeAfterReply)
        do {
            try await body(server)
        } catch {
            try? await server.channel.close()
            throw error
        }
        try? await server.channel.close()
    }
}

/// Answers once a request is complete: its head ended and, for a POST, its `Content-Length` read.
private final class ScriptedReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let reply: String?
    let closeAfterReply: Bool
    let state: ScriptedServer.State
    private var pending = ""

    init(reply: String?, closeAfterReply: Bool, state: ScriptedServer.State) {
        self.reply = reply
        self.closeAfterReply = closeAfterReply
        self.state = state
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        pending += String(buffer: unwrapInboundIn(data))
        state.received.withLock { $0 = pending }
        guard let headEnd = pending.range(of: "\r\n\r\n") else { return }
        let length =
            pending[..<headEnd.lowerBound].split(separator: "\r\n")
            .first { $0.lowercased().hasPrefix("content-length:") }
            .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
        guard pending[headEnd.upperBound...].utf8.count >= length, let reply else { return }
        pending = ""
        let written = context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: reply)))
        if closeAfterReply {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }
}
