import Contracts
import Logging
import Metrics
import RedisAdapter
import ServiceRuntime

/// Makes a calculation durable before its page is sent: the page shows a result only once the
/// record is in the outbox (a Redis stream, `AuditOutbox`) or, when Redis cannot take it, stored
/// by auditservice directly. When neither can be done the page says the calculation was not
/// recorded, so a result on screen is never one the history will miss, whatever happens to the
/// webapp afterwards (SIGKILL, OOM, node loss).
///
/// Each calculation gets its id here, once: whichever path stores it, and however often delivery
/// repeats it, auditservice keeps one record per id.
struct AuditRecorder: Sendable {
    enum Outcome: Equatable, Sendable {
        case recorded
        /// The outbox holds its capacity: the history is far behind. Nothing was recorded.
        case historyFull
        /// Neither the outbox nor auditservice could take the record. Nothing was recorded.
        case unavailable
    }

    struct Settings: Sendable {
        /// How long a page retries auditservice itself when the outbox cannot take its record.
        var directDeadline: Duration = .seconds(2)
        var backoff = Backoff(initial: .milliseconds(100), maximum: .milliseconds(800))
        init() {}
    }

    let outbox: AuditOutbox?
    let audit: AuditClient
    let settings: Settings
    let logger: Logger
    private let ids = UniqueIDs()
    private let metrics = AuditRecordMetrics()

    /// `outbox` nil: every record goes to auditservice directly (no Redis configured).
    init(outbox: AuditOutbox?, audit: AuditClient, settings: Settings = Settings(), logger: Logger) {
        self.outbox = outbox
        self.audit = audit
        self.settings = settings
        self.logger = logger
    }

    /// Records the calculation `calc` (`2+3`) with its `result`, under an id of its own.
    /// `traceparent`: the page's span, which the outbox entry keeps for its delivery.
    func record(calc: String, result: Int64, traceparent: String? = nil) async -> Outcome {
        let append = AuditAppend(id: ids.next(), calc: calc, result: result)
        if let outbox {
            do {
                switch try await outbox.add(append.json, traceparent: traceparent) {
                case .added:
                    metrics.outbox.increment()
                    return .recorded
                case .full:
                    metrics.refused.increment()
                    return .historyFull
                }
            } catch {
                logger.warning("audit outbox unavailable, appending directly", metadata: ["error": "\(error)"])
            }
        }
        do {
            try await appendDirectly(append)
            metrics.direct.increment()
            return .recorded
        } catch {
            logger.warning("calculation not recorded", metadata: ["error": "\(error)"])
            metrics.refused.increment()
            return .unavailable
        }
    }

    /// Appends with retries until `directDeadline`; a record auditservice refuses (4xx) is not retried.
    private func appendDirectly(_ append: AuditAppend) async throws {
        let deadline = ContinuousClock.now + settings.directDeadline
        var backoff = settings.backoff
        while true {
            do {
                return try await audit.append(append)
            } catch let error as AuditClient.Rejected {
                throw error
            } catch {
                let delay = backoff.next()
                guard ContinuousClock.now + delay < deadline else { throw error }
                try await Task.sleep(for: delay)
            }
        }
    }
}

/// How calculations were recorded, on /metrics.
struct AuditRecordMetrics: Sendable {
    let outbox = Counter(label: "webapp_audit_records_total", dimensions: [("path", "outbox")])
    /// Redis could not take the record; auditservice stored it while the page waited.
    let direct = Counter(label: "webapp_audit_records_total", dimensions: [("path", "direct")])
    /// Pages that said the calculation was not recorded (and showed no result).
    let refused = Counter(label: "webapp_audit_records_refused_total")
}
