import Logging
import NIOCore
import NIOHTTP1
import Prometheus

/// One connection's requests, after NIO's HTTP/1 decoder: reads each request whole (up to the
/// body limit), routes it, answers on the event loop or — for handlers that wait on I/O — from a
/// task, and writes the response as one buffer (`ResponseEncoding`) with `Content-Length` and
/// the connection's keep-alive decision. Malformed requests are the client's mistake: 400, close.
///
/// It also does the job of NIO's HTTPServerPipelineHandler (which, with NIO's response encoder,
/// was a third of a small request's instructions; bench/RESULTS.md): requests a client pipelines
/// behind one still being answered wait in order (`PipelinedInput`), and the connection reads no
/// more until that answer is written, nor while answers wait for a client that does not read them
/// (NIO's writability), so a client cannot pile up requests or answers in the server's memory.
final class HTTPConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundIn = Never
    typealias OutboundOut = ByteBuffer

    private enum State {
        case idle
        case reading(HTTPRequestHead, ByteBuffer?)
        case responding
        /// Answered and closing (a refusal, a malformed request): the rest of the input is dropped.
        case closing

        /// Whether the next request part can be handled now, not queued or dropped.
        var acceptsInput: Bool {
            switch self {
            case .idle, .reading: true
            case .responding, .closing: false
            }
        }
    }

    private let responder: Responder
    private let timeouts: ConnectionTimeouts
    private var state = State.idle
    private var pipelined = PipelinedInput()
    private var removed = false
    /// The client has finished sending: no request can follow what has already arrived.
    private var inputClosed = false
    /// The server is shutting down: close after the request in progress.
    private var quiescing = false
    private var lastSeries: RequestMetrics.LastSeries?

    init(responder: Responder, timeouts: ConnectionTimeouts) {
        self.responder = responder
        self.timeouts = timeouts
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch state {
        case .idle, .reading: handle(part, context: context)
        case .responding: pipelined.append(.part(part))
        case .closing: break
        }
    }

    /// While an answer is pending, or answers wait for a client that does not read them, the
    /// connection reads no more (see the type's comment).
    func read(context: ChannelHandlerContext) {
        if mayRead(context) {
            context.read()
        } else {
            pipelined.readHeld = true
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        releaseHeldRead(context: context)
        context.fireChannelWritabilityChanged()
    }

    private func mayRead(_ context: ChannelHandlerContext) -> Bool {
        state.acceptsInput && context.channel.isWritable
    }

    private func releaseHeldRead(context: ChannelHandlerContext) {
        guard pipelined.readHeld, mayRead(context) else { return }
        pipelined.readHeld = false
        context.read()
    }

    private func handle(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let head):
            if let declared = head.headers.first(name: "content-length").flatMap(Int.init), declared > responder.maxBodySize {
                refuseTooLarge(head, context: context)
            } else {
                state = .reading(head, nil)
                if head.version == .http1_1, head.headers.first(name: "expect")?.lowercased() == "100-continue" {
                    // The client waits for this before it sends the body (curl: a second, then anyway).
                    context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "HTTP/1.1 100 Continue\r\n\r\n")), promise: nil)
                }
            }
        case .body(var chunk):
            guard case .reading(let head, let body) = state else { return }
            guard var body else {
                if chunk.readableBytes > responder.maxBodySize {
                    refuseTooLarge(head, context: context)
                } else {
                    state = .reading(head, chunk)
                }
                return
            }
            guard body.readableBytes + chunk.readableBytes <= responder.maxBodySize else {
                refuseTooLarge(head, context: context)
                return
            }
            state = .idle  // one owner of the buffer while it grows
            body.writeBuffer(&chunk)
            state = .reading(head, body)
        case .end:
            guard case .reading(let head, let body) = state else { return }
            state = .responding
            timeouts.requestReceived()
            respond(to: head, body: body ?? context.channel.allocator.buffer(capacity: 0), context: context)
        }
    }

    /// NIO's decoder found a malformed request or broken framing.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError else {
            responder.logger.debug("connection error", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        switch state {
        case .responding: pipelined.append(.malformed)  // answered in its turn
        case .idle, .reading: refuseMalformed(context: context)
        case .closing: break
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            // The client finished sending (half-close): answer what has arrived, then close.
            inputClosed = true
            closeIfDone(context: context)
        } else if event is ChannelShouldQuiesceEvent {
            quiescing = true
            closeIfDone(context: context)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func closeIfDone(context: ChannelHandlerContext) {
        guard case .idle = state, pipelined.isEmpty else { return }
        context.close(promise: nil)
    }

    private func refuseTooLarge(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        state = .closing
        timeouts.requestReceived()
        let start = ContinuousClock.now
        let response = responder.refusal(.payloadTooLarge, "request body over \(responder.maxBodySize) bytes")
        finish(response, head: head, route: "BodyTooLarge", id: RequestID.next(), since: start, keepAlive: false, context: context)
    }

    private func refuseMalformed(context: ChannelHandlerContext) {
        state = .closing
        timeouts.requestReceived()
        let id = RequestID.next(), start = ContinuousClock.now
        responder.telemetry.record(
            method: .RAW(value: "-"), path: "-", route: "Malformed", status: 400, id: id, since: start, last: &lastSeries
        )
        write(responder.refusal(.badRequest, "malformed HTTP request"), head: nil, keepAlive: false, context: context)
    }

    private func respond(to head: HTTPRequestHead, body: ByteBuffer, context: ChannelHandlerContext) {
        let start = ContinuousClock.now
        let id = RequestID.next()
        guard Request.hasValidHost(head) else {
            let response = responder.refusal(.badRequest, "an HTTP/1.1 request names exactly one Host")
            finish(response, head: head, route: "BadHost", id: id, since: start, context: context)
            return
        }
        guard let request = Request(head: head, body: body, id: id, logger: responder.logger) else {
            finish(responder.refusal(.badRequest, "malformed path"), head: head, route: "BadPath", id: id, since: start, context: context)
            return
        }
        switch responder.routes.route(request) {
        case .endpoint(let endpoint):
            switch endpoint.handler {
            case .now(let handler):
                let response: Response
                do { response = try handler(request) } catch { response = responder.response(for: error, request: request) }
                finish(response, request: request, route: endpoint.route, since: start, context: context)
            case .task(let handler):
                answerFromTask(handler, request: request, route: endpoint.route, since: start, context: context)
            }
        case .methodNotAllowed(let allow):
            var response = responder.refusal(.methodNotAllowed, "method \(head.method.rawValue) not allowed here")
            response.headers.replaceOrAdd(name: "allow", value: allow)
            finish(response, request: request, route: "MethodNotAllowed", since: start, context: context)
        case .notFound:
            finish(responder.refusal(.notFound, "not found"), request: request, route: "NotFound", since: start, context: context)
        }
    }

    private func answerFromTask(
        _ handler: @escaping @Sendable (Request) async throws -> Response, request: Request, route: String,
        since start: ContinuousClock.Instant, context: ChannelHandlerContext
    ) {
        responder.telemetry.metrics.active.increment()
        let promise = context.eventLoop.makePromise(of: Response.self)
        promise.completeWithTask { [responder] in
            do { return try await handler(request) } catch { return responder.response(for: error, request: request) }
        }
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        promise.futureResult.whenSuccess { response in
            let (handler, context) = loopBound.value
            handler.responder.telemetry.metrics.active.decrement()
            guard !handler.removed else { return }  // the client went away meanwhile
            handler.finish(response, request: request, route: route, since: start, context: context)
        }
    }

    private func finish(
        _ response: Response, request: Request, route: String, since start: ContinuousClock.Instant, context: ChannelHandlerContext
    ) {
        finish(response, head: request.head, path: request.path, route: route, id: request.requestID, since: start, context: context)
    }

    private func finish(
        _ response: Response, head: HTTPRequestHead, path: Substring? = nil, route: String, id: RequestID,
        since start: ContinuousClock.Instant, keepAlive: Bool = true, context: ChannelHandlerContext
    ) {
        responder.telemetry.record(
            method: head.method, path: path ?? Request.path(of: head.uri), route: route, status: Int(response.status.code), id: id,
            since: start, last: &lastSeries
        )
        // A half-closed client gets `Connection: close` on the answer to the last request it sent.
        // NIO's decoder reads nothing more after a request that asks to upgrade the connection
        // (`Upgrade`, CONNECT); these services upgrade nothing, so that answer closes it.
        let keepAlive = keepAlive && head.isKeepAlive && !quiescing && !ConnectionDrain.isDraining
            && !(inputClosed && pipelined.isEmpty) && head.method != .CONNECT && !head.headers.contains(name: "upgrade")
        write(response, head: head, keepAlive: keepAlive, context: context)
    }

    /// Writes the response; then either takes up the next pipelined request or closes.
    private func write(_ response: Response, head: HTTPRequestHead?, keepAlive: Bool, context: ChannelHandlerContext) {
        let framing = ResponseEncoding.Framing(
            version: head?.version == .http1_0 ? .http1_0 : .http1_1, keepAlive: keepAlive, omitBody: head?.method == .HEAD
        )
        let (bytes, separateBody) = ResponseEncoding.encode(response, framing, allocator: context.channel.allocator)
        let written: EventLoopPromise<Void>? = keepAlive ? nil : context.eventLoop.makePromise()
        if let separateBody {
            context.write(wrapOutboundOut(bytes), promise: nil)
            context.writeAndFlush(wrapOutboundOut(separateBody), promise: written)
        } else {
            context.writeAndFlush(wrapOutboundOut(bytes), promise: written)
        }
        if let written {
            state = .closing
            pipelined.removeAll()
            let channel = context.channel
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
            return
        }
        state = .idle
        timeouts.responseSent()
        resumeInput(context: context)
    }

    /// After an answer: the requests that waited behind it, in order, then reading again.
    private func resumeInput(context: ChannelHandlerContext) {
        guard !pipelined.replaying else { return }  // an answer given while replaying: the loop below goes on
        pipelined.replaying = true
        defer { pipelined.replaying = false }
        while let next = pipelined.next(whileAccepting: state.acceptsInput) {
            switch next {
            case .part(let part): handle(part, context: context)
            case .malformed: refuseMalformed(context: context)
            }
        }
        guard state.acceptsInput else { return }
        releaseHeldRead(context: context)
        if inputClosed || quiescing { closeIfDone(context: context) }
    }
}
