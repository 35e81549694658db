import Contracts
import Logging
import Metrics
import Platform
import Queueing
import ServiceLifecycle
import ServiceRuntime
import Synchronization

/// Records page views as eventservice `record` messages without ever blocking or failing a page:
/// `record` only appends to a bounded buffer; `run` (a ServiceLifecycle service) sends batches,
/// waits with backoff while the sink is away and drains the buffer when it returns.
final class EventRecorder: Service, Sendable {
    struct Settings: Sendable {
        var capacity = 10_000
        var batchSize = 500
        /// Gathers events for this long after the first arrives, so busy pages share a push.
        var linger: Duration = .milliseconds(2)
        var backoff = Backoff(initial: .milliseconds(50), maximum: .seconds(1))
        /// On shutdown, how long to keep trying to deliver what is buffered.
        var drainTimeout: Duration = .seconds(3)
        init() {}
    }

    private let sink: any EventSink
    private let settings: Settings
    private let logger: Logger
    let buffer: EventBuffer
    private let droppedSinceLog = Atomic<Int>(0)
    /// Set when shutdown begins: from then on a batch is retried only until this instant.
    private let shutdownDeadline = Mutex<ContinuousClock.Instant?>(nil)
    private let metrics = EventMetrics()
    /// Every event's id, given when its batch is first built: a resend carries the same ids, and
    /// the eventservice applies each id once.
    private let ids = UniqueIDs()

    init(sink: any EventSink, settings: Settings = Settings(), logger: Logger) {
        self.sink = sink
        self.settings = settings
        self.logger = logger
        self.buffer = EventBuffer(capacity: settings.capacity)
    }

    /// Queues one event under `url` as given. Never waits; a full buffer drops the event and
    /// counts it.
    func record(url: String, traceparent: String? = nil) {
        if buffer.offer(PageEvent(url: url, traceparent: traceparent)) { return }
        metrics.dropped.increment()
        droppedSinceLog.add(1, ordering: .relaxed)
    }

    func run() async throws {
        await withGracefulShutdownHandler {
            await sendUntilFinished()
        } onGracefulShutdown: {
            self.beginShutdown()
        }
        beginShutdown()
        await drainOnShutdown()
    }

    private func beginShutdown() {
        let drainTimeout = settings.drainTimeout
        shutdownDeadline.withLock { $0 = $0 ?? ContinuousClock.now + drainTimeout }
        buffer.finish()
    }

    private func sendUntilFinished() async {
        var lastDropLog = ContinuousClock.now - .seconds(60)
        // `next` gives nil once the buffer is finished (shutdown) and throws when the task is
        // cancelled; either way what is left goes to `drainOnShutdown`.
        while !buffer.isFinished, !Task.isCancelled, let first = try? await buffer.next() {
            if buffer.count < settings.batchSize - 1 { try? await Task.sleep(for: settings.linger) }
            reportDrops(&lastDropLog)
            var batch = [first]
            buffer.take(upTo: settings.batchSize - 1, into: &batch)
            await deliver(batch, lastDropLog: &lastDropLog)
        }
    }

    /// Whatever is still buffered gets a bounded time to reach the sink before the process exits.
    private func drainOnShutdown() async {
        let deadline = shutdownDeadline.withLock { $0 } ?? .now
        var lastDropLog = ContinuousClock.now
        while buffer.count > 0, ContinuousClock.now < deadline {
            await deliver(buffer.take(upTo: settings.batchSize), lastDropLog: &lastDropLog)
        }
        let left = buffer.take(upTo: Int.max).count
        if left > 0 {
            metrics.lost.increment(by: left)
            logger.warning("events not delivered before shutdown", metadata: ["events": "\(left)"])
        }
    }

    /// Pushes one batch, retrying with capped backoff while the sink is unreachable.
    /// Once shutdown has begun, it gives up at the shutdown deadline and counts the batch as lost.
    private func deliver(_ batch: [PageEvent], lastDropLog: inout ContinuousClock.Instant) async {
        let messages = batch.map { EventQueueContract.recordMessage(url: $0.url, id: ids.next(), traceparent: $0.traceparent) }
        var backoff = settings.backoff
        var failures = 0
        while true {
            do {
                try await sink.push(messages)
                metrics.sent.increment(by: messages.count)
                if failures > 0 { logger.info("event sink reachable again", metadata: ["events": "\(messages.count)"]) }
                return
            } catch let error as EventsRejected {
                metrics.rejected.increment(by: messages.count)
                logger.error("event batch rejected", metadata: ["events": "\(messages.count)", "error": "\(error.message)"])
                return
            } catch {
                failures += 1
                metrics.retries.increment()
                if failures == 1 { logger.warning("event sink unreachable, buffering", metadata: ["error": "\(error)"]) }
            }
            let delay = backoff.next()
            let deadline = shutdownDeadline.withLock { $0 }
            if Task.isCancelled || deadline.map({ ContinuousClock.now + delay > $0 }) == true {
                metrics.lost.increment(by: messages.count)
                logger.warning("events not delivered before shutdown", metadata: ["events": "\(messages.count)"])
                return
            }
            try? await Task.sleep(for: delay)
            reportDrops(&lastDropLog)
        }
    }

    /// Logs buffer overflow at most every 10 s, so a long outage does not flood the log.
    private func reportDrops(_ lastLog: inout ContinuousClock.Instant) {
        guard ContinuousClock.now - lastLog >= .seconds(10) else { return }
        let dropped = droppedSinceLog.exchange(0, ordering: .relaxed)
        guard dropped > 0 else { return }
        lastLog = .now
        logger.warning(
            "event buffer full, page events dropped",
            metadata: ["dropped": "\(dropped)", "capacity": "\(settings.capacity)"]
        )
    }
}
/// The event recorder's counters on /metrics.
struct EventMetrics: Sendable {
    let sent = Counter(label: "webapp_events_sent_total")
    /// Refused by a full buffer: the page was served, its event is gone.
    let dropped = Counter(label: "webapp_events_dropped_total", dimensions: [("reason", "buffer_full")])
    let rejected = Counter(label: "webapp_events_dropped_total", dimensions: [("reason", "rejected")])
    let lost = Counter(label: "webapp_events_dropped_total", dimensions: [("reason", "shutdown")])
    let retries = Counter(label: "webapp_events_send_retries_total")
}
