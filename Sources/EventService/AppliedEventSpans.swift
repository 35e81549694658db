import Logging
import ServiceTracing
import Tracing

/// The spans of one batch's traced page events: each a consumer span continuing the page's
/// `traceparent`, from before the apply script runs until it has answered, so the event joins
/// the calculation's trace. Records without a `traceparent`, or with one that is not valid, are
/// applied without a span; a malformed one is never logged.
struct AppliedEventSpans {
    private var spans: [(record: EventBatch.TracedRecord, span: MicroSpan)] = []

    init(_ records: [EventBatch.TracedRecord], queue: String, tracer: MicroTracer) {
        for record in records {
            guard let parent = tracer.parent(of: record, using: TracedRecordExtractor()) else { continue }
            let span = tracer.startSpan("apply page event", parent: parent, ofKind: .consumer)
            span.setAttribute("messaging.system", "redis")
            span.setAttribute("messaging.destination.name", queue)
            span.setAttribute("messaging.operation.type", "process")
            if let id = record.id { span.setAttribute("messaging.message.id", id) }
            spans.append((record, span))
        }
    }

    /// Ends every span: one log line each inside its span (so it carries the trace's ids), or
    /// the error that stopped the apply.
    func end(failure: (any Error)?, logger: Logger) {
        for (record, span) in spans {
            if let failure {
                span.recordError(failure)
                span.setStatus(SpanStatus(code: .error))
            } else {
                ServiceContext.$current.withValue(span.context) {
                    logger.info("page event applied", metadata: ["url": "\(record.url)", "event_id": "\(record.id ?? "")"])
                }
            }
            span.end()
        }
    }
}

/// The `traceparent` a queue record carries, for `MicroTracer.extract`.
struct TracedRecordExtractor: Extractor {
    func extract(key: String, from record: EventBatch.TracedRecord) -> String? {
        key == "traceparent" ? record.traceparent : nil
    }
}
