import ServiceContextModule
import Synchronization
import Tracing
import W3CTraceContext

/// One span of `MicroTracer`. A span that is not recorded (not sampled, or nothing exports)
/// keeps its ids for logs and propagation and drops everything else at once.
public final class MicroSpan: Span, Sendable {
    public let context: ServiceContext
    let kind: SpanKind
    let parentSpanID: SpanID?
    let start: UInt64
    /// Where the span goes when it ends; nil when it is not recorded.
    private let queue: SpanQueue?
    private let state: Mutex<State>

    private struct State {
        var name: String
        var attributes = SpanAttributes()
        var status: SpanStatus?
        var events: [SpanEvent] = []
        var links: [SpanLink] = []
        var ended = false
    }

    init(name: String, kind: SpanKind, context: ServiceContext, parentSpanID: SpanID?, start: UInt64, queue: SpanQueue?) {
        self.context = context
        self.kind = kind
        self.parentSpanID = parentSpanID
        self.start = start
        self.queue = queue
        state = Mutex(State(name: name))
    }

    /// The span's own ids (always set: `MicroTracer` makes every span with them).
    public var traceContext: TraceContext? { context.traceContext }

    public var isRecording: Bool { queue != nil }

    public var operationName: String {
        get { state.withLock { $0.name } }
        set { state.withLock { $0.name = newValue } }
    }

    public var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set {
            guard isRecording else { return }
            state.withLock { $0.attributes = newValue }
        }
    }

    public func setStatus(_ status: SpanStatus) {
        guard isRecording else { return }
        state.withLock { state in
            // OpenTelemetry: Ok is final, and Unset never replaces what was set.
            if state.status?.code != .ok { state.status = status }
        }
    }

    public func addEvent(_ event: SpanEvent) {
        guard isRecording else { return }
        state.withLock { $0.events.append(event) }
    }

    public func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant) {
        guard isRecording else { return }
        var attributes = attributes
        attributes["exception.type"] = "\(type(of: error))"
        attributes["exception.message"] = "\(error)"
        addEvent(SpanEvent(name: "exception", at: instant(), attributes: attributes))
    }

    public func addLink(_ link: SpanLink) {
        guard isRecording else { return }
        state.withLock { $0.links.append(link) }
    }

    /// Only the first end counts.
    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        guard let queue, let traceContext else { return }
        let finished: FinishedSpan? = state.withLock { state in
            guard !state.ended else { return nil }
            state.ended = true
            return FinishedSpan(
                traceContext: traceContext, parentSpanID: parentSpanID, name: state.name, kind: kind, start: start,
                end: instant().nanosecondsSinceEpoch, attributes: state.attributes, status: state.status, events: state.events,
                links: state.links.compactMap { $0.context.traceContext }
            )
        }
        if let finished { queue.append(finished) }
    }
}

/// What the exporter sends of a span.
struct FinishedSpan: Sendable {
    let traceContext: TraceContext
    let parentSpanID: SpanID?
    let name: String
    let kind: SpanKind
    let start: UInt64
    let end: UInt64
    let attributes: SpanAttributes
    let status: SpanStatus?
    let events: [SpanEvent]
    let links: [TraceContext]
}
