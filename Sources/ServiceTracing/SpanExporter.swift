import Discovery
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import ServiceClient
import ServiceLifecycle

/// Sends the queue's spans to the OTLP/HTTP endpoint: a batch when `batchSize` spans wait or
/// `scheduleDelay` has passed, one POST at a time, each within the export timeout. A batch that
/// cannot be sent (refused, timed out, answered other than 2xx) is dropped and counted
/// (`tracing_spans_dropped_total{reason="export_failed"}`): spans are not worth a retry that
/// would hold more of them in memory, and nothing on a request's path ever waits for this.
///
/// On graceful shutdown the export in flight and then what is still queued get `shutdownLimit`
/// altogether; what is left after it is dropped and counted. Listed first in its service group
/// (`ServiceRuntime.makeApplication`), the exporter stops last, after the spans of the drain
/// have ended; should the drain budget end first, the group's cancellation ends the export at
/// once (`ServiceConnectionPool.execute`), so a hung collector never holds the process's exit.
public struct SpanExporter: Service {
    let queue: SpanQueue
    let endpoint: OTLPEndpoint
    let serviceName: String
    let scheduleDelay: Duration
    let timeout: Duration
    let logger: Logger
    /// Its own connection, so an export never waits behind a service call and a hung collector
    /// holds one descriptor at most.
    let pool: ServiceConnectionPool

    /// The exporter's share of `ServiceRuntime.drainLimit` (10 s): the last export after
    /// everything else has stopped.
    static let shutdownLimit: Duration = .seconds(2)

    init(queue: SpanQueue, endpoint: OTLPEndpoint, serviceName: String, batch: TracingConfig.BatchSettings, logger: Logger) {
        self.queue = queue
        self.endpoint = endpoint
        self.serviceName = serviceName
        self.scheduleDelay = batch.scheduleDelay
        self.timeout = batch.exportTimeout
        self.logger = logger
        pool = ServiceConnectionPool(connectTimeout: .milliseconds(min(1000, Int64(batch.exportTimeout.milliseconds))), maxPerTarget: 1)
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            // The timer: a wake-up every `scheduleDelay`, beside the queue's own when a batch is full.
            group.addTask { [queue, scheduleDelay] in
                while (try? await Task.sleep(for: scheduleDelay)) != nil { queue.wakeForSchedule() }
            }
            await withTaskGroup(of: Void.self) { work in
                work.addTask {
                    await exportUntilShutdown()
                    await flush()
                }
                // Cancels the work `shutdownLimit` after graceful shutdown began (at once on
                // cancellation), unless it finished first.
                work.addTask {
                    try? await gracefulShutdown()
                    try? await Task.sleep(for: Self.shutdownLimit)
                }
                await work.next()
                work.cancelAll()
            }
            group.cancelAll()
        }
        try? await pool.shutdown()
    }

    private func exportUntilShutdown() async {
        var failing = false
        for await _ in queue.wakeUps.cancelOnGracefulShutdown() {
            let onlyFull = !queue.takeScheduleDue()
            while !Task.isShuttingDownGracefully, !Task.isCancelled, let batch = queue.take(onlyFull: onlyFull) {
                let failure = await export(batch, within: timeout)
                // Said when it starts and when it ends, not once a batch: the counter has the rest.
                if let failure, !failing {
                    logger.warning(
                        "spans dropped: the collector does not take them", metadata: ["endpoint": "\(endpoint)", "error": "\(failure)"])
                } else if failure == nil, failing {
                    logger.notice("spans exported again", metadata: ["endpoint": "\(endpoint)"])
                }
                failing = failure != nil
            }
        }
    }

    /// What is still queued, in batches, until it is sent or the task is cancelled.
    func flush() async {
        while let batch = queue.take() {
            if Task.isCancelled {
                queue.counters.droppedExportFailed.increment(by: batch.count)
            } else {
                await export(batch, within: timeout)
            }
        }
    }

    /// nil when the collector took the batch, else why not.
    @discardableResult
    func export(_ batch: [MicroSpan], within limit: Duration) async -> String? {
        guard !batch.isEmpty else { return nil }
        let body = ByteBuffer(bytes: OTLPEncoding.request(batch, serviceName: serviceName))
        let failure: String?
        do {
            let reply = try await pool.execute(
                .POST, endpoint.path, headers: ["content-type": "application/x-protobuf"], body: body,
                to: ServiceTarget(host: endpoint.host, port: endpoint.port), timeout: .nanoseconds(Int64(limit.milliseconds) * 1_000_000)
            )
            failure = (200..<300).contains(reply.status.code) ? nil : "status \(reply.status.code)"
        } catch {
            failure = "\(error)"
        }
        if failure != nil {
            queue.counters.droppedExportFailed.increment(by: batch.count)
        } else {
            queue.counters.exported.increment(by: batch.count)
        }
        return failure
    }
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
