import Logging
import NIOCore
import NIOHTTP1
import Prometheus
import ServiceTracing
import Tracing

/// One connection's requests, after NIO's HTTP/1 decoder: reads each request whole (up to the
/// body limit), routes it, answers on the event loop or — for handlers that wait on I/O — from a
/// task, and writes the response as one buffer (`ResponseEncoding`) with `Content-Length` and
/// the connection's keep-alive decision. Malformed requests are the client's mistake: 400, close.
///
/// What to do when — pipelined requests in order, reading and answering only while the client
/// takes its answers, closing, the request and idle deadlines — is ConnectionStateMachine's; this
/// carries it out. It does the job of NIO's HTTPServerPipelineHandler, which with NIO's response
/// encoder is a large share of a small request (bench/RESULTS.md, "Figures behind the code").
final class HTTPConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = Never
    typealias OutboundOut = ByteBuffer

    private let server: ServerContext
    private let notice: CloseNotice
    private var machine: ConnectionStateMachine
    private var context: ChannelHandlerContext?
    /// One timer per connection, from open to close, that checks the machine's deadline:
    /// scheduling and cancelling one per request is a noticeable share of a small request
    /// (bench/RESULTS.md, "Figures behind the code"), so a request only moves the deadline.
    private var check: Scheduled<Void>?
    /// Waiting requests are being taken up: answers given meanwhile must not start a second pass.
    private var takingUp = false
    private var lastSeries: RequestMetrics.LastSeries?
    /// The client's address, for server spans: looked up once, for the first traced request.
    private var peer: ServerSpan.Peer??

    init(server: ServerContext, limits: ConnectionStateMachine.Limits, notice: CloseNotice) {
        self.server = server
        self.notice = notice
        self.machine = ConnectionStateMachine(limits: limits)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { opened(context: context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
        check = nil
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        opened(context: context)
        context.fireChannelActive()
    }

    private func opened(context: ChannelHandlerContext) {
        guard check == nil else { return }
        machine.opened(now: context.eventLoop.now)
        scheduleCheck(in: machine.limits.requestRead, context: context)
    }

    /// A read's bytes, as NIO's decoder is about to take them (`ObservedRequestDecoder`).
    func bytesArrived(_ buffer: ByteBuffer, now: NIODeadline) {
        machine.bytesArrived(buffer, now: now)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        carryOut(machine.received(unwrapInboundIn(data)), context: context)
    }

    private func carryOut(_ action: ConnectionStateMachine.PartAction, context: ChannelHandlerContext) {
        switch action {
        case .none: break
        case .sendContinue:
            // The client waits for this before it sends the body (curl: a second, then anyway).
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\n")), promise: nil)
        case .refuseTooLarge(let head): refuseTooLarge(head, context: context)
        case .respond(let head, let body):
            respond(to: head, body: body ?? context.channel.allocator.buffer(capacity: 0), context: context)
        }
    }

    func read(context: ChannelHandlerContext) {
        if machine.mayRead() { context.read() }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        machine.writabilityChanged(to: context.channel.isWritable)
        takeUpWaiting(context: context)
        context.fireChannelWritabilityChanged()
    }

    /// NIO's decoder found a malformed request or broken framing.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else {
            server.logger.debug("connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        if machine.malformed() { refuseMalformed(context: context) }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            // The client finished sending (half-close): answer what has arrived, then close.
            if machine.inputEnded() { context.close(promise: nil) }
        } else if event is ChannelShouldQuiesceEvent {
            if machine.quiesce() { context.close(promise: nil) }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func refuseTooLarge(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        let start = ContinuousClock.now
        let response = server.refusal(.payloadTooLarge, "request body over \(server.maxBodySize) bytes")
        finish(response, head: head, route: "BodyTooLarge", id: RequestID.next(), since: start, keepAlive: false, context: context)
    }

    private func refuseMalformed(context: ChannelHandlerContext) {
        let id = RequestID.next(), start = ContinuousClock.now
        server.telemetry.record(
            method: .RAW(value: "-"), path: "-", route: "Malformed", status: 400, id: id, since: start, last: &lastSeries
        )
        write(server.refusal(.badRequest, "malformed HTTP request"), head: nil, keepAlive: false, context: context)
    }

    private func respond(to head: HTTPRequestHead, body: ByteBuffer, context: ChannelHandlerContext) {
        let start = ContinuousClock.now
        let id = RequestID.next()
        let span = server.tracer.map { ServerSpan.start(head, tracer: $0) }
        guard Request.hasValidHost(head) else {
            let response = server.refusal(.badRequest, "an HTTP/1.1 request names exactly one Host")
            finish(response, head: head, route: "BadHost", id: id, span: span, since: start, context: context)
            return
        }
        guard let request = Request(head: head, body: body, id: id, logger: server.logger, span: span) else {
            finish(
                server.refusal(.badRequest, "malformed path"), head: head, route: "BadPath", id: id, span: span, since: start,
                context: context)
            return
        }
        switch server.routes.route(request) {
        case .route(let route):
            if let span { ServerSpan.routed(span, method: head.method, route: route.name) }
            switch route.handler {
            case .now(let handler):
                // Without ServiceContext.current: a handler on the event loop does no I/O and hands
                // nothing on, and its `request.logger` carries the span's ids.
                finish(answer(request, handler), request: request, route: route.name, span: span, since: start, context: context)
            case .task(let handler):
                answerFromTask(handler, request: request, route: route.name, span: span, since: start, context: context)
            }
        case .methodNotAllowed(let allow):
            var response = server.refusal(.methodNotAllowed, "method \(head.method.rawValue) not allowed here")
            response.headers.replaceOrAdd(name: "allow", value: allow)
            finish(response, request: request, route: "MethodNotAllowed", routed: false, span: span, since: start, context: context)
        case .notFound:
            finish(
                server.refusal(.notFound, "not found"), request: request, route: "NotFound", routed: false, span: span, since: start,
                context: context
            )
        }
    }

    private func answer(_ request: Request, _ handler: (Request) throws -> Response) -> Response {
        do { return try handler(request) } catch { return server.response(for: error, request: request) }
    }

    private func peerAddress(_ context: ChannelHandlerContext) -> ServerSpan.Peer? {
        if let peer { return peer }
        let address = ServerSpan.Peer(context.channel.remoteAddress)
        peer = .some(address)
        return address
    }

    private func answerFromTask(
        _ handler: @escaping @Sendable (Request) async throws -> Response, request: Request, route: String, span: MicroSpan?,
        since start: ContinuousClock.Instant, context: ChannelHandlerContext
    ) {
        server.telemetry.metrics.active.increment()
        let promise = context.eventLoop.makePromise(of: Response.self)
        if let span {
            promise.completeWithTask { [server] in
                await ServiceContext.$current.withValue(span.context) {
                    do { return try await handler(request) } catch { return server.response(for: error, request: request) }
                }
            }
        } else {
            promise.completeWithTask { [server] in
                do { return try await handler(request) } catch { return server.response(for: error, request: request) }
            }
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        promise.futureResult.whenSuccess { response in
            let (handler, context) = loopBound.value
            handler.server.telemetry.metrics.active.decrement()
            guard handler.context != nil else {  // the client went away meanwhile
                if let span {
                    ServerSpan.end(span, head: request.head, route: route, status: Int(response.status.code), peer: handler.peer ?? nil)
                }
                return
            }
            handler.finish(response, request: request, route: route, span: span, since: start, context: context)
        }
    }

    /// `routed`: `route` is the matched route's, which the span records (not a refusal's metric name).
    private func finish(
        _ response: Response, request: Request, route: String, routed: Bool = true, span: MicroSpan?,
        since start: ContinuousClock.Instant, context: ChannelHandlerContext
    ) {
        finish(
            response, head: request.head, path: request.path, route: route, routed: routed, id: request.requestID, span: span,
            since: start, context: context
        )
    }

    private func finish(
        _ response: Response, head: HTTPRequestHead, path: Substring? = nil, route: String, routed: Bool = false, id: RequestID,
        span: MicroSpan? = nil, since start: ContinuousClock.Instant, keepAlive: Bool = true, context: ChannelHandlerContext
    ) {
        let status = Int(response.status.code)
        if let span { ServerSpan.end(span, head: head, route: routed ? route : nil, status: status, peer: peerAddress(context)) }
        server.telemetry.record(
            method: head.method, path: path ?? Request.path(of: head.uri), route: route, status: status, id: id,
            trace: TraceIDs(span), since: start, last: &lastSeries
        )
        // NIO's decoder reads nothing more after a request that asks to upgrade the connection
        // (`Upgrade`, CONNECT); these services upgrade nothing, so that answer closes it. For a
        // moment after SIGTERM every answer closes its connection (`CloseNotice`).
        let keepAlive =
            keepAlive && head.isKeepAlive && !notice.isGiven && head.method != .CONNECT
            && !head.headers.contains(name: "upgrade")
        write(response, head: head, keepAlive: keepAlive, context: context)
    }

    /// Writes the response; then takes up what waits behind it, or closes.
    private func write(_ response: Response, head: HTTPRequestHead?, keepAlive: Bool, context: ChannelHandlerContext) {
        let answer = machine.answering(keepAlive: keepAlive, now: context.eventLoop.now)
        let framing = ResponseEncoding.Framing(
            version: head?.version == .http1_0 ? .http1_0 : .http1_1, keepAlive: answer.keepAlive, omitBody: head?.method == .HEAD
        )
        let (bytes, separateBody) = ResponseEncoding.encode(response, framing, allocator: context.channel.allocator)
        let written: EventLoopPromise<Void>? = answer.keepAlive && !answer.counted ? nil : context.eventLoop.makePromise()
        if let separateBody {
            context.write(wrapOutboundOut(bytes), promise: nil)
            context.writeAndFlush(wrapOutboundOut(separateBody), promise: written)
        } else {
            context.writeAndFlush(wrapOutboundOut(bytes), promise: written)
        }
        if !answer.keepAlive, let written {
            let channel = context.channel
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
            return
        }
        if let written {
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            written.futureResult.whenComplete { _ in loopBound.value.answerSent() }
        }
        if answer.followUp { takeUpWaiting(context: context) }
    }

    private func answerSent() {
        machine.answerSent()
        guard let context else { return }
        takeUpWaiting(context: context)
    }

    /// After an answer, a write or a change of writability: the requests that waited, in order,
    /// while the client takes its answers; then reading again, or closing.
    private func takeUpWaiting(context: ChannelHandlerContext) {
        guard !takingUp else { return }  // an answer given while taking up: the loop below goes on
        takingUp = true
        defer { takingUp = false }
        loop: while true {
            switch machine.next(now: context.eventLoop.now) {
            case .act(let action): carryOut(action, context: context)
            case .refuseMalformed: refuseMalformed(context: context)
            case .read:
                context.read()
                break loop
            case .close:
                context.close(promise: nil)
                break loop
            case .wait:
                break loop
            }
        }
    }

    // MARK: Deadlines

    private func scheduleCheck(in wait: TimeAmount, context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        check = context.eventLoop.scheduleTask(in: wait) { loopBound.value.deadlineCheck() }
    }

    private func deadlineCheck() {
        guard let context else { return }
        if let wait = machine.deadlineCheck(now: context.eventLoop.now) {
            scheduleCheck(in: wait, context: context)
        } else {
            check = nil
            context.close(promise: nil)
        }
    }
}

/// NIO's HTTP/1 request decoder, telling the connection about each read's bytes as it takes
/// them: the start of a request pipelined behind a complete one yields no part until its head is
/// whole, so only the bytes show it (ConnectionStateMachine's deadlines). Wrapping the decoder
/// costs less than a handler of its own in front of it.
struct ObservedRequestDecoder: ByteToMessageDecoder {
    typealias InboundOut = HTTPServerRequestPart

    private let decoder = HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes)
    private let connection: HTTPConnectionHandler

    init(connection: HTTPConnectionHandler) {
        self.connection = connection
    }

    func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        connection.bytesArrived(buffer, now: context.eventLoop.now)
        return try decoder.decode(context: context, buffer: &buffer)
    }

    func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decoder.decodeLast(context: context, buffer: &buffer, seenEOF: seenEOF)
    }

    func decoderAdded(context: ChannelHandlerContext) {
        decoder.decoderAdded(context: context)
    }

    func decoderRemoved(context: ChannelHandlerContext) {
        decoder.decoderRemoved(context: context)
    }
}
