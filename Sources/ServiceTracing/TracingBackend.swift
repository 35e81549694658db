import Logging
import Metrics

/// The tracer and, when spans are exported, the service that sends them; nil when the
/// configuration leaves tracing off. As swift-otel's `makeTracingBackend`: the caller runs the
/// exporter beside its own services, so that it starts and stops with them.
public struct TracingBackend: Sendable {
    public let tracer: MicroTracer
    /// Run it in the service group; nil when nothing is exported.
    public let exporter: SpanExporter?

    /// `metrics`: where the span counters go (the process's metrics system unless a test says).
    public init?(config: TracingConfig, logger: Logger, metrics: any MetricsFactory = MetricsSystem.factory) {
        switch config.export {
        case nil:
            return nil
        case .unexported?:
            tracer = MicroTracer(serviceName: config.serviceName, sampler: config.sampler, queue: nil)
            exporter = nil
        case .otlp(let endpoint)?:
            let queue = SpanQueue(
                capacity: config.batch.maxQueueSize, batchSize: config.batch.maxExportBatchSize, counters: SpanCounters(factory: metrics))
            tracer = MicroTracer(serviceName: config.serviceName, sampler: config.sampler, queue: queue)
            exporter = SpanExporter(queue: queue, endpoint: endpoint, serviceName: config.serviceName, batch: config.batch, logger: logger)
        }
    }
}
