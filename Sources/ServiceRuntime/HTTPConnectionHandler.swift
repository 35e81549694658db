import Logging
import NIOCore
import NIOHTTP1
import Prometheus

/// One connection's requests, after NIO's HTTP/1 decoder and pipelining handler: reads each
/// request whole (up to the body limit), routes it, answers on the event loop or — for handlers
/// that wait on I/O — from a task, and writes the response with `Content-Length` and the
/// connection's keep-alive decision. Malformed requests are the client's mistake: 400, close.
final class HTTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        case reading(HTTPRequestHead, ByteBuffer?)
        /// The request was refused before its body was read (413); the rest is dropped and the
        /// connection closes after the answer.
        case refused
        case responding
    }

    private let responder: Responder
    private let timeouts: ConnectionTimeouts
    private var state = State.idle
    private var removed = false
    /// The client has finished sending: no request can follow the one in flight.
    private var inputClosed = false

    init(responder: Responder, timeouts: ConnectionTimeouts) {
        self.responder = responder
        self.timeouts = timeouts
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        removed = true
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            if let declared = head.headers.first(name: "content-length").flatMap(Int.init), declared > responder.maxBodySize {
                refuseTooLarge(head, context: context)
            } else {
                state = .reading(head, nil)
            }
        case .body(var chunk):
            guard case .reading(let head, let body) = state else { return }
            guard var body else {
                state = chunk.readableBytes > responder.maxBodySize ? .refused : .reading(head, chunk)
                if case .refused = state { refuseTooLarge(head, context: context) }
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
        case .idle, .reading:
            state = .refused
            timeouts.requestReceived()
            let response = responder.refusal(.badRequest, "malformed HTTP request")
            responder.telemetry.record(
                method: .RAW(value: "-"), path: "-", route: "Malformed", status: 400, id: RequestID.next(), since: .now
            )
            write(response, head: nil, keepAlive: false, context: context)
        case .refused, .responding:
            context.close(promise: nil)  // the answer in progress ends the connection
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        // The client finished sending (half-close): answer what is in flight, then close.
        if case ChannelEvent.inputClosed = event {
            inputClosed = true
            if case .idle = state {
                context.close(promise: nil)
                return
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    private func refuseTooLarge(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        state = .refused
        timeouts.requestReceived()
        let start = ContinuousClock.now
        let response = responder.refusal(.payloadTooLarge, "request body over \(responder.maxBodySize) bytes")
        finish(response, head: head, route: "BodyTooLarge", id: RequestID.next(), since: start, keepAlive: false, context: context)
    }

    private func respond(to head: HTTPRequestHead, body: ByteBuffer, context: ChannelHandlerContext) {
        let start = ContinuousClock.now
        let id = RequestID.next()
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
                finish(response, head: head, route: endpoint.route, id: id, since: start, context: context)
            case .task(let handler):
                answerFromTask(handler, request: request, route: endpoint.route, since: start, context: context)
            }
        case .methodNotAllowed(let allow):
            var response = responder.refusal(.methodNotAllowed, "method \(head.method.rawValue) not allowed here")
            response.headers.replaceOrAdd(name: "allow", value: allow)
            finish(response, head: head, route: "MethodNotAllowed", id: id, since: start, context: context)
        case .notFound:
            finish(responder.refusal(.notFound, "not found"), head: head, route: "NotFound", id: id, since: start, context: context)
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
            handler.finish(response, head: request.head, route: route, id: request.id, since: start, context: context)
        }
    }

    private func finish(
        _ response: Response, head: HTTPRequestHead, route: String, id: String, since start: ContinuousClock.Instant,
        keepAlive: Bool = true, context: ChannelHandlerContext
    ) {
        responder.telemetry.record(
            method: head.method, path: head.uri[..<(head.uri.firstIndex(of: "?") ?? head.uri.endIndex)], route: route,
            status: Int(response.status.code), id: id, since: start
        )
        let keepAlive = keepAlive && head.isKeepAlive && !inputClosed && !ConnectionDrain.isDraining
        write(response, head: head, keepAlive: keepAlive, context: context)
    }

    /// Writes the response; keeps the connection for the next request or closes it.
    private func write(_ response: Response, head: HTTPRequestHead?, keepAlive: Bool, context: ChannelHandlerContext) {
        var headers = response.headers
        if response.status != .notModified && response.status != .noContent {
            headers.replaceOrAdd(name: "content-length", value: String(response.body.readableBytes))
        }
        if !keepAlive {
            headers.replaceOrAdd(name: "connection", value: "close")
        } else if head?.version == .http1_0 {
            headers.replaceOrAdd(name: "connection", value: "keep-alive")
        }
        let version = head?.version == .http1_0 ? HTTPVersion.http1_0 : .http1_1
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: version, status: response.status, headers: headers))), promise: nil)
        if head?.method != .HEAD, response.body.readableBytes > 0 {
            context.write(wrapOutboundOut(.body(.byteBuffer(response.body))), promise: nil)
        }
        if keepAlive {
            if case .responding = state { state = .idle }
            timeouts.responseSent()
            // Writing the end may hand this handler the next pipelined request at once.
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        } else {
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
