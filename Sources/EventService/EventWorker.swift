import Contracts
import Logging
import Metrics
import Platform
import RedisAdapter
import ServiceLifecycle
import ServiceRuntime
import ServiceTracing

/// Consumes the `eventservice` queue reliably.
///
/// Each round takes a batch with `EventScripts.takeBatch` (messages move queue → processing list
/// atomically; one too large never leaves Redis), decides in Swift what each message means, and
/// applies and acknowledges the whole batch atomically with `EventScripts.applyBatch`. A crash between the two leaves the batch in
/// the processing list, where the next round (after a restart, too) finds it first; because a
/// message is applied only when its acknowledgement removes it, nothing is counted twice.
/// When both lists are empty the worker waits in BLMOVE, whose reply it never reads.
final class EventWorker: Service, Sendable {
    private let consumer: RedisClient
    private let monitor: RedisClient
    private let keys: EventKeys
    private let settings: EventWorkerSettings
    private let logger: Logger
    /// nil: tracing is off, and no message is looked at for a trace.
    private let tracer: MicroTracer?
    private let processed = Counter(label: "eventservice_events_processed_total")
    private let deadLettered = Counter(label: "eventservice_events_dead_lettered_total")
    private let duplicates = Counter(label: "eventservice_events_duplicate_total")
    private let expired = Counter(label: "eventservice_summaries_expired_total")
    private let deadLettersLost = Counter(label: "eventservice_dead_letters_lost_total")
    private let queueDepth = Gauge(label: "eventservice_queue_depth")

    /// - Parameters:
    ///   - consumer: used only by this worker: it blocks in BLMOVE, so its command timeout must be
    ///     longer than `settings.blockSeconds`.
    ///   - monitor: for the queue-depth gauge (and readiness checks elsewhere); never blocks.
    init(
        consumer: RedisClient, monitor: RedisClient, keys: EventKeys = .standard,
        settings: EventWorkerSettings = EventWorkerSettings(), logger: Logger, tracer: MicroTracer? = nil
    ) {
        self.consumer = consumer
        self.monitor = monitor
        self.keys = keys
        self.settings = settings
        self.logger = logger
        self.tracer = tracer
    }

    /// Runs until graceful shutdown or cancellation; Redis errors are logged and retried.
    func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.sampleQueueDepth() }
            await self.consume()
            group.cancelAll()
        }
    }

    private func consume() async {
        await logRecovery()
        var backoff = settings.retry
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                _ = try await round()
                backoff.reset()
            } catch {
                let delay = backoff.next()
                logger.warning("eventservice round failed, retrying in \(delay): \(error)")
                try? await Task.sleep(for: delay)
            }
        }
        logger.info("eventservice worker stopped")
    }

    /// One round: apply the next batch, or wait for a message when there is none.
    /// Returns what was done (all zero when it waited).
    @discardableResult
    func round() async throws(RedisError) -> AppliedCounts {
        let (batch, taken) = try await takeBatch()
        var done = taken
        if !batch.isEmpty {
            done = done + (try await apply(batch))
        } else if taken.deadLetters + taken.deadLettersLost == 0 {
            // BLMOVE's reply would be the message, of whatever size: Redis is told not to send
            // it, and the next take looks at the message where it now is, in the processing list.
            try await consumer.commandDiscardingReply([
                "BLMOVE", keys.queue, keys.processing, "RIGHT", "LEFT", "\(settings.blockSeconds)",
            ])
        }
        count(done)
        return done
    }

    private func count(_ done: AppliedCounts) {
        processed.increment(by: done.records + done.summaries)
        deadLettered.increment(by: done.deadLetters)
        duplicates.increment(by: done.duplicates)
        expired.increment(by: done.expired)
        guard done.deadLettersLost > 0 else { return }
        deadLettersLost.increment(by: done.deadLettersLost)
        logger.error(
            "dropped \(done.deadLettersLost) messages whose dead letters could not be written to \(keys.dead): \(done.loss ?? "")"
        )
    }

    /// The next batch, and what the take script dead-lettered itself (oversized, not UTF-8).
    private func takeBatch() async throws(RedisError) -> (batch: [String], taken: AppliedCounts) {
        let millis = Int64(Date().timeIntervalSince1970 * 1000)
        let arguments = [
            settings.batchSize, settings.batchBytes, EventQueueContract.maximumMessageBytes,
            EventQueueContract.deadLetterPrefixBytes, Int(millis),
        ].map { "\($0)" }
        let reply = try await EventScripts.takeBatch.run(
            on: consumer, keys: [keys.queue, keys.processing, keys.dead], arguments: arguments)
        guard let parts = reply.array, parts.count == 4, let dead = parts[0].integer, let batch = parts[1].array,
            let lost = parts[2].integer, let loss = parts[3].string
        else {
            throw RedisError(.reply, "unexpected reply from the take script: \(reply)")
        }
        let taken = AppliedCounts(deadLetters: Int(dead), deadLettersLost: Int(lost), loss: loss.isEmpty ? nil : loss)
        return (batch.compactMap(\.string), taken)
    }

    private func apply(_ messages: [String]) async throws(RedisError) -> AppliedCounts {
        let batch = EventBatch(messages: messages, keys: keys, settings: settings)
        let spans = tracer.map { AppliedEventSpans(batch.traced, queue: keys.queue, tracer: $0) }
        let reply: RedisValue
        do {
            reply = try await EventScripts.applyBatch.run(on: consumer, keys: batch.keys, arguments: batch.arguments)
        } catch {
            spans?.end(failure: error, logger: logger)
            throw error
        }
        spans?.end(failure: nil, logger: logger)
        let parts = reply.array ?? []
        let numbers = parts.prefix(6).compactMap(\.integer).map(Int.init)
        guard numbers.count == 6, parts.count == 7, let loss = parts[6].string else {
            throw RedisError(.reply, "unexpected reply from the apply script: \(reply)")
        }
        return AppliedCounts(
            records: numbers[0], summaries: numbers[1], deadLetters: numbers[2], duplicates: numbers[3],
            expired: numbers[4], deadLettersLost: numbers[5], loss: loss.isEmpty ? nil : loss
        )
    }

    private func logRecovery() async {
        guard let waiting = try? await monitor.command(["LLEN", keys.processing]).integer, waiting > 0 else { return }
        logger.notice("re-applying \(waiting) messages left in \(keys.processing) by an earlier run")
    }

    private func sampleQueueDepth() async {
        while !Task.isCancelled {
            if let depth = try? await monitor.command(["LLEN", keys.queue]).integer {
                queueDepth.record(depth)
            }
            try? await Task.sleep(for: settings.depthSampleInterval)
        }
    }
}
