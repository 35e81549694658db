import ServiceContextModule
import Synchronization
import Tracing
import W3CTraceContext

/// One span of `MicroTracer`. A span that is not recorded (not sampled, or nothing exports)
/// keeps its ids for logs and propagation and drops everything else at once. A recorded one
/// joins the exporter's queue as it is when it ends.
///
/// Its attributes are written in OTLP's wire format as they are set (`SpanAttributeBytes`),
/// and its name may be kept as method and route until it is sent: a service's own spans cost
/// what writing them costs, without a dictionary or a copy between (bench/RESULTS.md,
/// "Tracing"). The protocol's `attributes` reads them back.
public final class MicroSpan: Span, Sendable {
    /// The context the span was started in (its parent's), without the span.
    private let parentContext: ServiceContext
    /// The span's own ids; what `context` adds to the parent's.
    let ownContext: TraceContext
    let kind: SpanKind
    let parentSpanID: SpanID?
    let start: UInt64
    /// Where the span goes when it ends; nil when it is not recorded.
    private let queue: SpanQueue?
    let state: Mutex<State>

    struct State {
        var name: Name
        var attributes = SpanAttributeBytes()
        /// Nanoseconds since the epoch; nil until the span ends.
        var end: UInt64?
        /// What few spans have, apart: a span without them is made and freed with less work.
        var rare: Rare?
        /// `context`, once asked for.
        var childContext: ServiceContext?
    }

    struct Rare {
        var status: SpanStatus?
        var events: [SpanEvent] = []
        var links: [SpanLink] = []
    }

    /// The span's name, or the two words an HTTP span's name is made of (`GET /add/:first/:second`),
    /// joined only when it is sent or read.
    enum Name {
        case text(String)
        case methodAndRoute(String, String)

        var text: String {
            switch self {
            case .text(let text): text
            case .methodAndRoute(let method, let route): method + " " + route
            }
        }
    }

    init(
        name: Name, kind: SpanKind, parentContext: ServiceContext, own: TraceContext, parentSpanID: SpanID?, start: UInt64,
        queue: SpanQueue?
    ) {
        self.parentContext = parentContext
        self.ownContext = own
        self.kind = kind
        self.parentSpanID = parentSpanID
        self.start = start
        self.queue = queue
        state = Mutex(State(name: name))
    }

    /// The context of the span's children: its parent's with the span's ids. Made when first
    /// asked for, then kept — a `ServiceContext` entry costs ~3,000 instructions (a dictionary, a
    /// boxed value); a span that hands nothing on (adderservice's, the webapp's calls: their
    /// `traceparent` comes from the span's own ids, `HTTPHeaders.addTraceContext`) never asks.
    public var context: ServiceContext {
        state.withLock { state in
            if let context = state.childContext { return context }
            var context = parentContext
            context.traceContext = ownContext
            state.childContext = context
            return context
        }
    }

    /// The span's own ids (always set: `MicroTracer` makes every span with them).
    public var traceContext: TraceContext? { ownContext }

    /// The trace's and the span's id, without the trace state.
    public var ids: (trace: TraceID, span: SpanID) { (ownContext.traceID, ownContext.spanID) }

    public var isRecording: Bool { queue != nil }

    public var operationName: String {
        get { state.withLock { $0.name.text } }
        set { state.withLock { $0.name = .text(newValue) } }
    }

    /// Names the span `<method> <route>`, the HTTP conventions' name, without joining them now.
    public func name(method: String, route: String) {
        guard isRecording else { return }
        state.withLock { $0.name = .methodAndRoute(method, route) }
    }

    /// Adds attributes under one lock. Each key once: a key added again is sent twice.
    public func addAttributes(_ add: (inout SpanAttributeBytes) -> Void) {
        guard isRecording else { return }
        state.withLock { add(&$0.attributes) }
    }

    public func setAttribute(_ key: String, _ value: String) {
        addAttributes { $0.add(key, value) }
    }

    public func setAttribute(_ key: String, _ value: Int) {
        addAttributes { $0.add(key, Int64(value)) }
    }

    /// What was set, read back from its encoding; setting replaces all of it.
    public var attributes: SpanAttributes {
        get { state.withLock { $0.attributes.decoded() } }
        set {
            guard isRecording else { return }
            var encoded = SpanAttributeBytes()
            newValue.forEach { encoded.add($0, .other($1)) }
            state.withLock { $0.attributes = encoded }
        }
    }

    public func setStatus(_ status: SpanStatus) {
        guard isRecording else { return }
        state.withLock { state in
            // OpenTelemetry: Ok is final, and Unset never replaces what was set.
            if state.rare?.status?.code != .ok { state.rare[default: Rare()].status = status }
        }
    }

    public func addEvent(_ event: SpanEvent) {
        guard isRecording else { return }
        state.withLock { $0.rare[default: Rare()].events.append(event) }
    }

    public func recordError<Instant: TracerInstant>(_ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant)
    {
        guard isRecording else { return }
        var attributes = attributes
        attributes["exception.type"] = "\(type(of: error))"
        attributes["exception.message"] = "\(error)"
        addEvent(SpanEvent(name: "exception", at: instant(), attributes: attributes))
    }

    public func addLink(_ link: SpanLink) {
        guard isRecording else { return }
        state.withLock { $0.rare[default: Rare()].links.append(link) }
    }

    /// Only the first end counts.
    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        guard let queue else { return }
        let first = state.withLock { state in
            guard state.end == nil else { return false }
            state.end = instant().nanosecondsSinceEpoch
            return true
        }
        if first { queue.append(self) }
    }
}

extension Optional {
    /// The wrapped value, made with `make` first when there is none, for changing in place.
    fileprivate subscript(default make: @autoclosure () -> Wrapped) -> Wrapped {
        get { self ?? make() }
        set { self = newValue }
    }
}
