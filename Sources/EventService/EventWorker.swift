#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Logging
import Metrics
import RedisAdapter
import ServiceRuntime
import ServiceLifecycle

/// Consumes the `eventservice` queue reliably.
///
/// Each round takes a batch with `EventScripts.takeBatch` (messages move queue → processing list
/// atomically), decides in Swift what each message means, and applies and acknowledges the whole
/// batch atomically with `EventScripts.applyBatch`. A crash between the two leaves the batch in
/// the processing list, where the next round (after a restart, too) finds it first; because a
/// message is applied only when its acknowledgement removes it, nothing is counted twice.
/// When both lists are empty the worker waits in BLMOVE.
final class EventWorker: Service, Sendable {
    private let consumer: RedisClient
    private let monitor: RedisClient
    private let keys: EventKeys
    private let settings: EventWorkerSettings
    private let logger: Logger
    private let processed = Counter(label: "eventservice_events_processed_total")
    private let deadLettered = Counter(label: "eventservice_events_dead_lettered_total")
    private let duplicates = Counter(label: "eventservice_events_duplicate_total")
    private let queueDepth = Gauge(label: "eventservice_queue_depth")

    /// - Parameters:
    ///   - consumer: used only by this worker: it blocks in BLMOVE, so its command timeout must be
    ///     longer than `settings.blockSeconds`.
    ///   - monitor: for the queue-depth gauge (and readiness checks elsewhere); never blocks.
    init(
        consumer: RedisClient, monitor: RedisClient, keys: EventKeys = .standard,
        settings: EventWorkerSettings = EventWorkerSettings(), logger: Logger
    ) {
        self.consumer = consumer
        self.monitor = monitor
        self.keys = keys
        self.settings = settings
        self.logger = logger
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
    /// Returns what was applied (all zero when it waited).
    @discardableResult
    func round() async throws(RedisError) -> AppliedCounts {
        let (batch, deadOnTake) = try await takeBatch()
        deadLettered.increment(by: deadOnTake)
        guard !batch.isEmpty else {
            if deadOnTake > 0 { return AppliedCounts(deadLetters: deadOnTake) }
            _ = try await consumer.command([
                "BLMOVE", keys.queue, keys.processing, "RIGHT", "LEFT", "\(settings.blockSeconds)",
            ])
            return AppliedCounts()
        }
        var applied = try await apply(batch)
        processed.increment(by: applied.records + applied.summaries)
        deadLettered.increment(by: applied.deadLetters)
        duplicates.increment(by: applied.duplicates)
        applied.deadLetters += deadOnTake
        return applied
    }

    /// The next batch, and how many messages the take script dead-lettered itself (not UTF-8).
    private func takeBatch() async throws(RedisError) -> (batch: [String], deadLettered: Int) {
        let millis = Int64(Date().timeIntervalSince1970 * 1000)
        let reply = try await EventScripts.takeBatch.run(
            on: consumer, keys: [keys.queue, keys.processing, keys.dead], arguments: ["\(settings.batchSize)", "\(millis)"]
        )
        guard let parts = reply.array, parts.count == 2, let dead = parts[0].integer, let batch = parts[1].array else {
            throw RedisError(.reply, "unexpected reply from the take script: \(reply)")
        }
        return (batch.compactMap(\.string), Int(dead))
    }

    private func apply(_ messages: [String]) async throws(RedisError) -> AppliedCounts {
        let batch = EventBatch(messages: messages, keys: keys, settings: settings)
        let reply = try await EventScripts.applyBatch.run(on: consumer, keys: batch.keys, arguments: batch.arguments)
        let numbers = (reply.array ?? []).compactMap(\.integer).map(Int.init)
        guard numbers.count == 4 else { throw RedisError(.reply, "unexpected reply from the apply script: \(reply)") }
        return AppliedCounts(records: numbers[0], summaries: numbers[1], deadLetters: numbers[2], duplicates: numbers[3])
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
