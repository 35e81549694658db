import Logging
import Metrics
import Prometheus

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

    /// Safe to call many times: the work runs once (a `static let` initialiser is run once, thread-safely).
    public static func bootstrap() {
        _ = once
    }

    private static let once: Void = {
        LoggingSystem.bootstrap { label in
            var handler = LogLineHandler(label: label)
            handler.logLevel = .trace  // each Logger carries the configured level itself
            return handler
        }
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = durationBuckets
        MetricsSystem.bootstrap(factory)
    }()
}
