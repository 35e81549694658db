import Logging
import ServiceContextModule
import W3CTraceContext

extension TraceContext {
    /// `trace_id` and `span_id` as every log line inside a trace carries them: lowercase hex, as
    /// in `traceparent`, so an id copied from a line finds the trace anywhere.
    public var logMetadata: Logger.Metadata {
        ["trace_id": .string(traceID.description), "span_id": .string(spanID.description)]
    }
}

extension Logger.MetadataProvider {
    /// The current span's ids (`ServiceContext.current`), for the lines a task logs inside it.
    public static let traceContext = Logger.MetadataProvider {
        ServiceContext.current?.traceContext?.logMetadata ?? [:]
    }
}
