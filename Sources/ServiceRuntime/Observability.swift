import Logging
import Metrics
import Prometheus
import ServiceTracing
import Synchronization

/// Process-wide observability backends. swift-log and swift-metrics accept exactly one bootstrap
/// per process: an executable makes it (ServiceMain), and so does a test that reads swift-metrics
/// series through `/metrics`. The request series (`requestMetrics`) need no bootstrap.
public enum Observability {
    /// Every metric of the process; `/metrics` renders it.
    public static let registry = PrometheusCollectorRegistry()

    /// Finer buckets than the default (5 ms..10 s): these services answer in well under 5 ms.
    static let durationBuckets: [Duration] = [
        .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
        .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    /// The HTTP request series every router of the process shares.
    static let requestMetrics = RequestMetrics(registry: registry, buckets: durationBuckets)

    /// Safe to call many times: the first call's choice holds. `traceContextInLogs`: every log
    /// line written inside a span (`ServiceContext.current`) carries its `trace_id` and `span_id`
    /// (ServiceMain, when tracing is on).
    public static func bootstrap(traceContextInLogs: Bool = false) {
        once.withLock { done in
            guard !done else { return }
            done = true
            let provider: Logger.MetadataProvider? = traceContextInLogs ? .traceContext : nil
            LoggingSystem.bootstrap(
                { label, _ in
                    var handler = LogLineHandler(label: label, tracesContext: traceContextInLogs)
                    handler.logLevel = .trace  // each Logger carries the configured level itself
                    return handler
                }, metadataProvider: provider
            )
            var factory = PrometheusMetricsFactory(registry: registry)
            factory.defaultDurationHistogramBuckets = durationBuckets
            MetricsSystem.bootstrap(factory)
        }
    }

    private static let once = Mutex(false)
}
