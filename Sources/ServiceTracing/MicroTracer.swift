import Instrumentation
import ServiceContextModule
import Tracing
import W3CTraceContext

/// The process's tracer, on swift-distributed-tracing's `Tracer` API: W3C Trace Context in and
/// out (`traceparent`, `tracestate`), the configured sampler, and sampled spans handed to the
/// exporter's queue when they end.
///
/// Written here rather than taken from swift-otel 1.6, which was measured against this
/// project's budgets (bench/RESULTS.md, "Tracing"): its only exporters bring AsyncHTTPClient,
/// swift-nio-ssl (BoringSSL) and swift-protobuf into every service, and the spans it drops when
/// its queue is full or an export fails are logged, not counted where a metric could see them.
public final class MicroTracer: Tracer, Sendable {
    public typealias Span = MicroSpan

    public let serviceName: String
    let sampler: Sampler
    /// nil: spans are made for their ids but never recorded (`OTEL_TRACES_EXPORTER=none`).
    let queue: SpanQueue?

    init(serviceName: String, sampler: Sampler, queue: SpanQueue?) {
        self.serviceName = serviceName
        self.sampler = sampler
        self.queue = queue
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> MicroSpan {
        let context = context()
        return makeSpan(
            .text(operationName), kind: kind, parentContext: context, parent: context.traceContext, start: instant().nanosecondsSinceEpoch)
    }

    /// A span whose parent is `parent` (nil: it starts a trace), for a caller that holds the
    /// parent's ids rather than a context: what arrived in a request or a queue entry
    /// (`parent(of:using:)`). Its children's context then holds the span alone. Without the
    /// `ServiceContext` that `extract` fills, which costs ~2,500 instructions (a dictionary and
    /// a boxed value; bench/RESULTS.md, "Tracing").
    public func startSpan(_ operationName: String, parent: TraceContext?, ofKind kind: SpanKind) -> MicroSpan {
        makeSpan(
            .text(operationName), kind: kind, parentContext: .topLevel, parent: parent, start: DefaultTracerClock.now.nanosecondsSinceEpoch)
    }

    /// An HTTP client span named `<method> <route>` (joined only when it is sent), a child of
    /// the task's current span (`ServiceContext.current`).
    public func startClientSpan(method: String, route: String) -> MicroSpan {
        let context = ServiceContext.current ?? .topLevel
        return makeSpan(
            .methodAndRoute(method, route), kind: .client, parentContext: context, parent: context.traceContext,
            start: DefaultTracerClock.now.nanosecondsSinceEpoch
        )
    }

    private func makeSpan(_ name: MicroSpan.Name, kind: SpanKind, parentContext: ServiceContext, parent: TraceContext?, start: UInt64)
        -> MicroSpan
    {
        var random = SystemRandomNumberGenerator()
        let traceID = parent?.traceID ?? TraceID.random(using: &random)
        let sampled = sampler.samples(traceID: traceID, parentSampled: parent?.isSampled)
        let own = TraceContext(
            traceID: traceID, spanID: SpanID.random(using: &random), flags: sampled ? .sampled : [],
            state: parent?.state ?? TraceState()
        )
        return MicroSpan(
            name: name, kind: kind, parentContext: parentContext, own: own, parentSpanID: parent?.spanID, start: start,
            queue: sampled ? queue : nil
        )
    }

    /// Spans are sent by the exporter's own schedule; see `SpanExporter`.
    public func forceFlush() {}

    /// Reads `traceparent` and `tracestate` into `context`; a missing or malformed
    /// `traceparent` leaves it without a parent, so the next span starts a new trace.
    public func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        if let parent = parent(of: carrier, using: extractor) { context.traceContext = parent }
    }

    /// The parent that `traceparent` and `tracestate` name, or nil when `traceparent` is missing
    /// or malformed (a new trace starts): `extract` without a context, for `startSpan(_:parent:ofKind:)`.
    public func parent<Carrier, Extract: Extractor>(of carrier: Carrier, using extractor: Extract) -> TraceContext?
    where Extract.Carrier == Carrier {
        // `tracestate` only with a `traceparent`: most requests bring neither.
        guard let traceparent = extractor.extract(key: "traceparent", from: carrier) else { return nil }
        return TraceContext(traceparent: traceparent, tracestate: extractor.extract(key: "tracestate", from: carrier))
    }

    /// Writes the context's span as `traceparent` (and `tracestate` when there is one).
    public func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        guard let own = context.traceContext else { return }
        injector.inject(own.traceparent, forKey: "traceparent", into: &carrier)
        if let state = own.traceStateHeaderValue { injector.inject(state, forKey: "tracestate", into: &carrier) }
    }
}
