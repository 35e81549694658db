import NIOHTTP1
import Prometheus
import Synchronization

/// Per route, method and status: a request counter and a latency histogram, created on first use
/// and then found by one dictionary lookup. Straight on the Prometheus registry, because a
/// lookup through the swift-metrics facade per request is a large share of a small request
/// (bench/RESULTS.md, "Figures behind the code").
final class RequestMetrics: Sendable {
    struct Series: Sendable {
        let requests: Counter
        let duration: DurationHistogram

        func record(_ elapsed: Duration) {
            requests.increment()
            duration.record(elapsed)
        }
    }

    private struct Key: Hashable {
        let route: String
        let method: String
        let status: Int
    }

    let active: Gauge
    private let registry: PrometheusCollectorRegistry
    private let buckets: [Duration]
    private let cache = Mutex<[Key: Series]>([:])

    init(registry: PrometheusCollectorRegistry, buckets: [Duration]) {
        self.registry = registry
        self.buckets = buckets
        self.active = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                metricName: "http_server_active_requests", unitName: "", helpText: "Requests being answered by a task now."
            )
        )
    }

    /// The series a connection recorded last. A connection's next request is most often on the
    /// same route with the same method and status; then it needs no lookup in the shared table.
    struct LastSeries {
        let route: String
        let method: HTTPMethod
        let status: Int
        let series: Series
    }

    func series(route: String, method: HTTPMethod, status: Int, last: inout LastSeries?) -> Series {
        if let last, last.status == status, last.method == method, last.route == route { return last.series }
        let series = series(route: route, method: method, status: status)
        last = LastSeries(route: route, method: method, status: status, series: series)
        return series
    }

    // Computed: the descriptor type is not Sendable, and each is needed once per new series.
    private static var requestsTotal: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "http_server_requests", unitName: "total", helpText: "Requests answered, by route, method and status.")
    }
    private static var requestDuration: MetricNameDescriptor {
        MetricNameDescriptor(
            metricName: "http_server_request_duration", unitName: "seconds",
            helpText: "From the whole request read to its response handed to the connection."
        )
    }

    func series(route: String, method: HTTPMethod, status: Int) -> Series {
        let key = Key(route: route, method: method.rawValue, status: status)
        return cache.withLock { cache in
            if let series = cache[key] { return series }
            let labels = [
                ("http_route", route), ("http_request_method", key.method),
                ("http_response_status_code", String(status)),
            ]
            let series = Series(
                requests: registry.makeCounter(descriptor: Self.requestsTotal, labels: labels),
                duration: registry.makeDurationHistogram(descriptor: Self.requestDuration, labels: labels, buckets: buckets)
            )
            cache[key] = series
            return series
        }
    }
}
