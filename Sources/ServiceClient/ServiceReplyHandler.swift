import NIOCore
import NIOHTTP1

/// A reply with a status the caller interprets (adderservice 400 means "bad operands").
public struct ServiceReply: Sendable {
    public let status: HTTPResponseStatus
    public let body: ByteBuffer
    /// The server keeps the connection open for another call.
    public var keepAlive = true

    public init(status: HTTPResponseStatus, body: ByteBuffer, keepAlive: Bool = true) {
        self.status = status
        self.body = body
        self.keepAlive = keepAlive
    }
}

/// One request to a service and where its reply goes; written into a pooled connection's channel.
struct ServiceCall {
    let head: HTTPRequestHead
    let body: ByteBuffer?
    let timeout: TimeAmount
    let reply: EventLoopPromise<ServiceReply>
}

/// The service did not answer within the call's deadline.
public struct ServiceTimeout: Error, CustomStringConvertible {
    public init() {}
    public var description: String { "no reply within the deadline" }
}

/// The reply was larger than `ServiceConnectionPool.maxReplySize`, or the connection ended first.
public struct BadServiceReply: Error, CustomStringConvertible {
    public let description: String
}

/// The last handler of a connection to a service: sends one `ServiceCall` at a time (the pool
/// never writes a second before the first is answered) and collects its reply. A timeout, an
/// error or the connection closing fails the call and closes the connection.
final class ServiceReplyHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = ServiceCall
    typealias OutboundOut = HTTPClientRequestPart

    private var reply: EventLoopPromise<ServiceReply>?
    private var deadline: Scheduled<Void>?
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let call = unwrapOutboundIn(data)
        reply = call.reply
        head = nil
        body.clear()
        // Both closures run on this channel's event loop, where the handler lives.
        deadline = context.eventLoop.assumeIsolated().scheduleTask(in: call.timeout) {
            self.fail(ServiceTimeout(), context: context)
        }
        context.write(wrapOutboundOut(.head(call.head)), promise: nil)
        if let body = call.body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenFailure { error in
            self.fail(error, context: context)
        }
        promise?.succeed()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body(var part):
            guard body.readableBytes + part.readableBytes <= ServiceConnectionPool.maxReplySize else {
                return fail(BadServiceReply(description: "reply larger than \(ServiceConnectionPool.maxReplySize) bytes"), context: context)
            }
            body.writeBuffer(&part)
        case .end:
            guard let head, let reply else { return fail(BadServiceReply(description: "reply without a head"), context: context) }
            deadline?.cancel()
            self.reply = nil
            reply.succeed(ServiceReply(status: head.status, body: body, keepAlive: head.isKeepAlive))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(BadServiceReply(description: "connection closed before the reply"), context: context)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(error, context: context)
    }

    /// Fails the call, if one is waiting, and closes the connection either way: after an error
    /// or a reply nobody asked for, the connection's state is unknown.
    private func fail(_ error: any Error, context: ChannelHandlerContext) {
        deadline?.cancel()
        if let reply {
            self.reply = nil
            reply.fail(error)
        }
        context.close(promise: nil)
    }
}
