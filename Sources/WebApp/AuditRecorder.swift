import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// Sends calculations to auditservice in the background, so the add page never waits for it.
/// Each record is retried with capped backoff for a bounded time (`retryWindow`); what cannot be
/// delivered is counted on /metrics and logged. A ServiceLifecycle service.
public final class AuditRecorder: Service, Sendable {
    public struct Settings: Sendable {
        /// Records waiting to be sent; beyond this they are dropped and counted.
        public var capacity = 10_000
        /// Appends in flight at once, so a slow auditservice is not flooded.
        public var concurrency = 32
        public var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2))
        /// How long one record is retried before it is given up.
        public var retryWindow: Duration = .seconds(30)
        public init() {}
    }

    private let audit: AuditClient
    private let settings: Settings
    private let logger: Logger
    private let stream: AsyncStream<AuditRecord>
    private let continuation: AsyncStream<AuditRecord>.Continuation
    private let metrics = AuditMetrics()
    private let droppedSinceLog = Atomic<Int>(0)
    private let lastDropLog = Mutex(ContinuousClock.now - .seconds(60))

    public init(audit: AuditClient, settings: Settings = Settings(), logger: Logger) {
        self.audit = audit
        self.settings = settings
        self.logger = logger
        let queue = AsyncStream.makeStream(of: AuditRecord.self, bufferingPolicy: .bufferingOldest(settings.capacity))
        stream = queue.stream
        continuation = queue.continuation
    }

    /// Queues a record; never waits.
    public func record(_ record: AuditRecord) {
        if case .enqueued = continuation.yield(record) { return }
        metrics.failed(.queueFull).increment()
        // Logged at most every 10 s with a count: a long outage must not flood the log (or the page path).
        let now = ContinuousClock.now
        let due = lastDropLog.withLock { last -> Bool in
            guard now - last >= .seconds(10) else { return false }
            last = now
            return true
        }
        let dropped = droppedSinceLog.add(1, ordering: .relaxed).newValue
        if due {
            droppedSinceLog.subtract(dropped, ordering: .relaxed)
            logger.error("audit records dropped: queue full", metadata: ["dropped": "\(dropped)", "capacity": "\(settings.capacity)"])
        }
    }

    public func run() async throws {
        // On shutdown the queue stops taking records; what is queued gets one attempt each.
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                var inFlight = 0
                for await record in stream {
                    if inFlight >= settings.concurrency {
                        await group.next()
                        inFlight -= 1
                    }
                    group.addTask { await self.deliver(record) }
                    inFlight += 1
                }
            }
        } onGracefulShutdown: {
            self.continuation.finish()
        }
    }

    private func deliver(_ record: AuditRecord) async {
        let deadline = ContinuousClock.now + settings.retryWindow
        var delay = settings.backoff.initial
        var attempts = 0
        while true {
            attempts += 1
            do {
                try await audit.append(record)
                metrics.appended.increment()
                return
            } catch let error as AuditClient.Rejected {
                metrics.failed(.rejected).increment()
                logger.error("audit record rejected", metadata: ["calc": "\(record.calc)", "error": "\(error)"])
                return
            } catch {
                let givingUp = ContinuousClock.now + delay > deadline || Task.isCancelled || Task.isShuttingDownGracefully
                if givingUp {
                    metrics.failed(.gaveUp).increment()
                    logger.error(
                        "audit record not delivered",
                        metadata: ["calc": "\(record.calc)", "attempts": "\(attempts)", "error": "\(error)"]
                    )
                    return
                }
                metrics.retries.increment()
                if attempts == 1 { logger.warning("audit append failed, retrying", metadata: ["error": "\(error)"]) }
            }
            try? await Task.sleep(for: delay)
            delay = settings.backoff.next(after: delay)
        }
    }
}

struct AuditMetrics: Sendable {
    enum Reason: String, CaseIterable { case queueFull = "queue_full", rejected, gaveUp = "gave_up" }
    let appended = Counter(label: "webapp_audit_appends_total")
    let retries = Counter(label: "webapp_audit_append_retries_total")
    /// Made up front, so /metrics shows every reason at 0 before the first failure.
    private let failures = Dictionary(uniqueKeysWithValues: Reason.allCases.map {
        ($0, Counter(label: "webapp_audit_append_failures_total", dimensions: [("reason", $0.rawValue)]))
    })

    func failed(_ reason: Reason) -> Counter {
        failures[reason] ?? Counter(label: "webapp_audit_append_failures_total", dimensions: [("reason", reason.rawValue)])
    }
}
