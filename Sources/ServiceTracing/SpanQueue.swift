import Metrics
import Queueing
import Synchronization

/// Finished spans waiting for the exporter: bounded, and never waited on. A span that finds it
/// full is dropped and counted (`tracing_spans_dropped_total{reason="queue_full"}`), so a
/// collector that is slow, down or hung costs the requests nothing but their spans. The spans
/// are held by the project's one bounded queue (`AsyncQueue`); this adds when the exporter wakes.
final class SpanQueue: Sendable {
    let capacity: Int
    /// The exporter is woken when this many spans wait, without waiting for its timer.
    let batchSize: Int
    private let spans: AsyncQueue<MicroSpan>
    private let wakeUpContinuation: AsyncStream<Void>.Continuation
    /// The exporter's wake-ups: one pending at most.
    let wakeUps: AsyncStream<Void>
    let counters: SpanCounters
    private let scheduleDue = Atomic<Bool>(false)

    init(capacity: Int, batchSize: Int, counters: SpanCounters) {
        self.capacity = capacity
        self.batchSize = batchSize
        self.counters = counters
        spans = AsyncQueue(capacity: capacity)
        (wakeUps, wakeUpContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    func append(_ span: MicroSpan) {
        if !spans.offer(span) {
            counters.droppedQueueFull.increment()
        } else if spans.count == batchSize {
            wake()
        }
    }

    /// Up to `batchSize` of the oldest waiting spans; with `onlyFull`, only a full batch. nil
    /// when there is none to send. Sending only full batches between the timer's wake-ups keeps
    /// a busy service to one export per `batchSize` spans: draining whatever waited after each
    /// export sent batches of a few dozen, each a whole HTTP request (bench/RESULTS.md).
    func take(onlyFull: Bool = false) -> [MicroSpan]? {
        if onlyFull, spans.count < batchSize { return nil }
        let batch = spans.take(upTo: batchSize)
        return batch.isEmpty ? nil : batch
    }

    var isEmpty: Bool { spans.count == 0 }

    /// A batch is full.
    func wake() { wakeUpContinuation.yield() }

    /// The schedule: everything waiting is due.
    func wakeForSchedule() {
        scheduleDue.store(true, ordering: .relaxed)
        wakeUpContinuation.yield()
    }

    /// Whether the schedule asked for everything since the last call.
    func takeScheduleDue() -> Bool { scheduleDue.exchange(false, ordering: .relaxed) }
}

/// What becomes of spans, for `/metrics` and the SpansDropped alert.
struct SpanCounters: Sendable {
    let exported: Counter
    let droppedQueueFull: Counter
    let droppedExportFailed: Counter

    init(factory: any MetricsFactory = MetricsSystem.factory) {
        exported = Counter(label: "tracing_spans_exported_total", factory: factory)
        droppedQueueFull = Counter(label: "tracing_spans_dropped_total", dimensions: [("reason", "queue_full")], factory: factory)
        droppedExportFailed = Counter(label: "tracing_spans_dropped_total", dimensions: [("reason", "export_failed")], factory: factory)
    }
}
