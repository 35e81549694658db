import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A test's own OTLP/HTTP collector on a loopback port: it takes `POST /v1/traces` with a
/// protobuf `ExportTraceServiceRequest`, keeps the spans it decodes, and answers as the test
/// says — 200, an error status, or never (a hung collector).
public final class OTLPReceiver: Sendable {
    public enum Answer: Sendable {
        case ok
        case status(HTTPResponseStatus)
        /// Reads the request and never answers.
        case never
    }

    private let channel: any Channel
    private let state: State

    final class State: Sendable {
        let spans = Mutex<[ReceivedSpan]>([])
        let requests = Atomic<Int>(0)
        let answer: Mutex<Answer>
        init(answer: Answer) { self.answer = Mutex(answer) }
    }

    public var port: Int { channel.localAddress?.port ?? 0 }
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` for the services under test.
    public var endpoint: String { "http://127.0.0.1:\(port)" }

    /// Every span received so far, in arrival order.
    public var spans: [ReceivedSpan] { state.spans.withLock { $0 } }
    /// Export requests received, whatever was answered.
    public var requests: Int { state.requests.load(ordering: .relaxed) }

    public var answer: Answer {
        get { state.answer.withLock { $0 } }
        set { state.answer.withLock { $0 = newValue } }
    }

    public init(answer: Answer = .ok) async throws {
        let state = State(answer: answer)
        self.state = state
        channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture {
                    try child.pipeline.syncOperations.configureHTTPServerPipeline()
                    try child.pipeline.syncOperations.addHandler(ExportHandler(state: state))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }

    public func stop() async {
        try? await channel.close()
    }

    /// The spans of one trace (its id in lowercase hex).
    public func spans(ofTrace traceID: String) -> [ReceivedSpan] {
        spans.filter { $0.traceID == traceID }
    }
}

/// One span as the receiver decoded it; ids in lowercase hex, as in `traceparent`.
public struct ReceivedSpan: Sendable, Hashable, CustomStringConvertible {
    public var serviceName = ""
    public var traceID = ""
    public var spanID = ""
    /// Empty for a trace's root span.
    public var parentSpanID = ""
    public var traceState = ""
    public var name = ""
    /// OTLP's SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer.
    public var kind = 0
    public var start: UInt64 = 0
    public var end: UInt64 = 0
    /// Every attribute's value as text (strings as they are, numbers in decimal).
    public var attributes: [String: String] = [:]
    /// OTLP's StatusCode: 0 unset, 1 ok, 2 error.
    public var statusCode = 0

    public var description: String {
        "\(serviceName) \(name) kind=\(kind) trace=\(traceID) span=\(spanID) parent=\(parentSpanID) \(attributes)"
    }
}

private final class ExportHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let state: OTLPReceiver.State
    private var body: [UInt8] = []

    init(state: OTLPReceiver.State) { self.state = state }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            body = []
        case .body(let part):
            body += part.readableBytesView
        case .end:
            state.requests.add(1, ordering: .relaxed)
            let answer = state.answer.withLock { $0 }
            if case .ok = answer, let spans = try? OTLPDecoding.spans(fromRequest: body) {
                state.spans.withLock { $0 += spans }
            }
            let status: HTTPResponseStatus
            switch answer {
            case .never: return
            case .ok: status = .ok
            case .status(let other): status = other
            }
            let head = HTTPResponseHead(
                version: .http1_1, status: status, headers: ["content-length": "0", "content-type": "application/x-protobuf"])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }
}
