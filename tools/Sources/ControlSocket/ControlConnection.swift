import Foundation
import NIOCore

/// One control connection: its first line is the request; the handler's reply is written, and
/// the connection closed. The line decoder before it bounds the request's size, and two
/// deadlines bound the rest: the request must arrive within `requestTime` of connecting, and the
/// reply be taken within `replyTime` (a client that never reads is closed, and its reply dropped).
/// Between the two the handler takes as long as it takes.
final class ControlConnection: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let limits: ControlServer.Limits
    private let handler: @Sendable (ControlRequest) async -> ControlReply
    private var answered = false
    private var requestDeadline: Scheduled<Void>?

    init(limits: ControlServer.Limits, handler: @escaping @Sendable (ControlRequest) async -> ControlReply) {
        self.limits = limits
        self.handler = handler
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        requestDeadline = context.eventLoop.scheduleTask(in: TimeAmount(limits.requestTime)) { channel.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard begin() else { return }
        let line = unwrapInboundIn(data)
        guard let request = try? JSONDecoder().decode(ControlRequest.self, from: Data(line.readableBytesView)) else {
            Self.send(
                .failure("not a control request (one JSON object of command and arguments, then a newline)"), on: context.channel,
                limits: limits)
            return
        }
        let channel = context.channel
        let handler = handler
        let limits = limits
        Task {
            let reply = await handler(request)
            ControlConnection.send(reply, on: channel, limits: limits)
        }
    }

    /// An over-long request (the decoder's limit), or input that ended within a line.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard begin() else { return context.close(promise: nil) }
        let reason =
            error is ByteToMessageDecoderError.PayloadTooLargeError
            ? "request larger than \(limits.requestBytes) bytes" : "request not ended by a newline"
        Self.send(.failure(reason), on: context.channel, limits: limits)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The client shut its side down without a request: nothing to answer.
        if case .inputClosed = event as? ChannelEvent, begin() { context.close(promise: nil) }
        context.fireUserInboundEventTriggered(event)
    }

    /// True the first time: one request per connection; what follows it is ignored.
    private func begin() -> Bool {
        guard !answered else { return false }
        answered = true
        requestDeadline?.cancel()
        return true
    }

    private static func send(_ reply: ControlReply, on channel: any Channel, limits: ControlServer.Limits) {
        // Encoding a struct of a string and an integer cannot fail.
        var bytes = (try? JSONEncoder().encode(reply)) ?? Data()
        bytes.append(UInt8(ascii: "\n"))
        let deadline = channel.eventLoop.scheduleTask(in: TimeAmount(limits.replyTime)) { channel.close(promise: nil) }
        channel.writeAndFlush(ByteBuffer(bytes: bytes)).whenComplete { _ in
            deadline.cancel()
            channel.close(promise: nil)
        }
    }
}
