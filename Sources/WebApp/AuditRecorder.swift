import Contracts
import Logging
import Metrics
import ServiceLifecycle
import ServiceRuntime
import Synchronization

/// Sends calculations to auditservice in the background, losing none.
///
/// Each calculation gets an id here, once; auditservice stores at most one record per id, so
/// a record is retried (capped backoff) for as long as it takes without ever being doubled.
/// The queue is bounded and a full one makes `record` wait, up to `maximumWait`: under overload
/// the calculation page slows down instead of dropping history, and when the history stays full
/// (auditservice down for longer than the queue holds) the page says so instead of hanging. On shutdown the queue is drained for up to
/// `drainTimeout`; what is still undelivered then is parked (`AuditParking`, a Redis list) and
/// delivered by the next webapp to start. A ServiceLifecycle service.
final class AuditRecorder: Service, Sendable {
    struct Settings: Sendable {
        /// Records waiting to be sent; beyond this `record` waits for room.
        var capacity = 10_000
        /// The longest a calculation waits for room in a full queue before its page says the
        /// history is unavailable (and the calculation is not recorded, nor shown as done).
        var maximumWait: Duration = .seconds(3)
        /// Appends in flight at once, so a slow auditservice is not flooded.
        var concurrency = 32
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2))
        /// On shutdown, how long delivery goes on before the rest is parked. Below the runtime's
        /// 10 s shutdown limit, with room for parking and the other services.
        var drainTimeout: Duration = .seconds(5)
        init() {}
    }

    private let audit: AuditClient
    private let parking: (any AuditParking)?
    private let settings: Settings
    private let logger: Logger
    private let queue: AuditQueue
    private let ids = UniqueIDs()
    private let metrics = AuditMetrics()
    /// Set when shutdown begins: from then on a failing record is retried only until this instant.
    private let drainDeadline = Mutex<ContinuousClock.Instant?>(nil)
    /// Records given up at the drain deadline, parked once the senders have stopped.
    private let undelivered = Mutex<[PendingAppend]>([])

    init(audit: AuditClient, parking: (any AuditParking)? = nil, settings: Settings = Settings(), logger: Logger) {
        self.audit = audit
        self.parking = parking
        self.settings = settings
        self.logger = logger
        self.queue = AuditQueue(capacity: settings.capacity)
    }

    /// Queues a calculation for the history, waiting up to `maximumWait` while the queue is
    /// full. `.refused`: the history stayed full (auditservice down or far behind) and the
    /// calculation is not recorded.
    @discardableResult
    func record(_ record: AuditRecord) async -> AuditQueue.Admission {
        let append = AuditAppend(id: ids.next(), calc: record.calc, calcResult: record.calcResult)
        let admission = await queue.put(PendingAppend(append: append), waitingAtMost: settings.maximumWait)
        switch admission {
        case .queued: break
        case .queuedAfterWaiting: metrics.delayed.increment()
        case .refused: metrics.refused.increment()
        }
        return admission
    }

    /// Records queued and not yet taken by a sender.
    var queued: Int { queue.count }

    func run() async throws {
        await withGracefulShutdownHandler {
            await withDiscardingTaskGroup { group in
                group.addTask { await self.resumeParked() }
                for _ in 0..<settings.concurrency {
                    group.addTask { await self.sendUntilFinished() }
                }
            }
        } onGracefulShutdown: {
            self.beginShutdown()
        }
        beginShutdown()
        // Parked from a task of its own: if shutdown ran out of time and cancelled this one, the
        // Redis call would fail at once, and these records must still reach the parking list.
        let left = undelivered.withLock { $0 } + queue.takeAll()
        await Task { await self.parkUndelivered(left) }.value
    }

    private func beginShutdown() {
        let drainTimeout = settings.drainTimeout
        drainDeadline.withLock { $0 = $0 ?? ContinuousClock.now + drainTimeout }
        queue.finish()
    }

    private func sendUntilFinished() async {
        while let item = await queue.take() {
            if await deliver(item.append) {
                if let parked = item.parked { try? await parking?.remove(parked) }
            } else {
                undelivered.withLock { $0.append(item) }
            }
        }
    }

    /// Appends one record, retrying with capped backoff while auditservice is unavailable.
    /// False only when the drain deadline passed first (the record is to be parked).
    private func deliver(_ append: AuditAppend) async -> Bool {
        var backoff = settings.backoff
        var attempts = 0
        while true {
            attempts += 1
            do {
                try await audit.append(append)
                metrics.appended.increment()
                return true
            } catch let error as AuditClient.Rejected {
                // A 4xx: this record can never be stored (a bug, not an outage). Logged whole.
                metrics.failed(.rejected).increment()
                logger.error("audit record rejected", metadata: ["record": "\(append)", "error": "\(error)"])
                return true
            } catch {
                if attempts == 1 { logger.warning("audit append failed, retrying", metadata: ["error": "\(error)"]) }
            }
            if Task.isCancelled { return false }
            let delay = backoff.next()
            if let deadline = drainDeadline.withLock({ $0 }), ContinuousClock.now + delay > deadline { return false }
            metrics.retries.increment()
            try? await Task.sleep(for: delay)
        }
    }

    /// Stores what the drain could not deliver for the next start. Without a parking place (or
    /// when it fails too) every record is logged whole at error level, so it can be replayed.
    private func parkUndelivered(_ items: [PendingAppend]) async {
        // Records that came from the parking list are still there.
        let fresh = items.filter { $0.parked == nil }
        guard !fresh.isEmpty else { return }
        let bodies = fresh.compactMap { try? $0.append.json() }
        do {
            guard let parking else { throw AuditParkingUnavailable() }
            try await parking.park(bodies)
            metrics.parked.increment(by: bodies.count)
            logger.notice("audit records parked for the next start", metadata: ["records": "\(bodies.count)"])
        } catch {
            metrics.failed(.unparked).increment(by: bodies.count)
            for body in bodies {
                logger.error("audit record neither delivered nor parked", metadata: ["record": "\(body)", "error": "\(error)"])
            }
        }
    }

    /// Queues what an earlier run parked. Retried until the parking place answers once.
    private func resumeParked() async {
        guard let parking else { return }
        var backoff = settings.backoff
        while drainDeadline.withLock({ $0 }) == nil {
            do {
                let bodies = try await parking.parked()
                for body in bodies {
                    guard let append = try? AuditAppend(json: body) else {
                        logger.error("unreadable parked audit record", metadata: ["record": "\(body)"])
                        continue
                    }
                    await queue.put(PendingAppend(append: append, parked: body), waitingAtMost: nil)
                }
                if !bodies.isEmpty {
                    metrics.resumed.increment(by: bodies.count)
                    logger.notice("delivering audit records parked by an earlier run", metadata: ["records": "\(bodies.count)"])
                }
                return
            } catch {
                try? await Task.sleep(for: backoff.next())
            }
        }
    }
}

struct AuditParkingUnavailable: Error, CustomStringConvertible {
    var description: String { "no parking place for audit records" }
}

struct AuditMetrics: Sendable {
    enum Reason: String, CaseIterable { case rejected, unparked }
    let appended = Counter(label: "webapp_audit_appends_total")
    let retries = Counter(label: "webapp_audit_append_retries_total")
    /// Calculations that waited for room in a full queue (the history was behind).
    let delayed = Counter(label: "webapp_audit_records_delayed_total")
    /// Calculations refused after the longest wait: their pages said so, nothing was recorded.
    let refused = Counter(label: "webapp_audit_records_refused_total")
    let parked = Counter(label: "webapp_audit_records_parked_total")
    let resumed = Counter(label: "webapp_audit_records_resumed_total")
    /// Made up front, so /metrics shows every reason at 0 before the first failure.
    private let failures = Dictionary(uniqueKeysWithValues: Reason.allCases.map {
        ($0, Counter(label: "webapp_audit_append_failures_total", dimensions: [("reason", $0.rawValue)]))
    })

    func failed(_ reason: Reason) -> Counter {
        failures[reason] ?? Counter(label: "webapp_audit_append_failures_total", dimensions: [("reason", reason.rawValue)])
    }
}
