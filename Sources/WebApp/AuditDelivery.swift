import Contracts
import Logging
import Metrics
import Platform
import Queueing
import RedisAdapter
import ServiceLifecycle
import ServiceRuntime
import ServiceTracing

/// Drains the audit outbox into auditservice: a ServiceLifecycle service, one per webapp, each a
/// consumer of the outbox's group. A round takes a batch (entries idle too long first, whoever
/// took them), sends them to auditservice (`AuditSender`), and removes the delivered ones. A
/// failed append leaves its entry in the stream, taken again once idle; a record auditservice
/// refuses (4xx), or that is not an `/append` body, goes to the dead-letter list. Nothing is
/// held only in memory, so a shutdown has nothing to park: it stops after the round in hand.
final class AuditDelivery: Service, Sendable {
    struct Settings: Sendable {
        /// The longest wait between rounds while the outbox is empty or the last batch was not
        /// full; an add by this webapp ends it sooner. Entries of other webapps, and entries to
        /// take over, are found at the latest then.
        var poll: Duration = .milliseconds(100)
        /// After an add woke delivery, before the round: the entries that come meanwhile share the
        /// round's read, request and settle. Short, so auditservice and MongoDB see a steady
        /// stream rather than bursts that hold up the pages sharing their cores.
        var linger: Duration = .milliseconds(2)
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(2))
        /// How often consumers of webapps long gone are forgotten, and after how long.
        var forgetConsumersEvery: Duration = .seconds(600)
        var forgetConsumersIdleFor: Duration = .seconds(3600)
        init() {}
    }

    private let outbox: AuditOutbox
    private let sender: AuditSender
    private let settings: Settings
    private let logger: Logger
    /// This webapp's name in the group: the host (the pod's name) and a random part, so a
    /// restarted webapp never takes over its predecessor's name.
    let consumer: String
    private let metrics = AuditDeliveryMetrics()

    init(outbox: AuditOutbox, audit: AuditClient, settings: Settings = Settings(), logger: Logger, tracer: MicroTracer? = nil) {
        self.outbox = outbox
        self.settings = settings
        self.logger = logger
        self.consumer = "\(Self.hostName())-\(String(UInt64.random(in: .min ... .max), radix: 36))"
        self.sender = AuditSender(audit: audit, stream: outbox.keys.stream, logger: logger, tracer: tracer, failures: metrics.failures)
    }

    func run() async throws {
        guard await prepare() else { return }
        var cursor = "0-0"
        var backoff = settings.backoff
        var failing = false
        var lastForget = ContinuousClock.now
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let pause: Pause
            do {
                let taken = try await round(cursor: &cursor)
                if failing { logger.notice("audit delivery resumed") }
                failing = false
                backoff.reset()
                pause = taken < outbox.settings.batchSize ? .untilAdded : .none
            } catch {
                if !failing { logger.warning("audit delivery failing, retrying", metadata: ["error": "\(error)"]) }
                failing = true
                pause = .sleep(backoff.next())
            }
            if ContinuousClock.now - lastForget >= settings.forgetConsumersEvery {
                lastForget = .now
                _ = try? await outbox.forgetIdleConsumers(idleFor: settings.forgetConsumersIdleFor)
            }
            switch pause {
            case .none: break
            case .sleep(let duration): await Self.sleep(duration)
            case .untilAdded: await waitForAdditions()
            }
        }
    }

    private enum Pause {
        case none
        case sleep(Duration)
        /// Until this webapp adds an entry (then `linger`), or `poll` passes.
        case untilAdded
    }

    private func waitForAdditions() async {
        let woken =
            (try? await cancelWhenGracefulShutdown { [outbox, settings] in
                try await outbox.added.next(timeout: settings.poll)
            }) != nil
        if woken { await Self.sleep(settings.linger) }
    }

    /// The group exists and the previous design's parked records are in the stream; retried
    /// until Redis answers. False when shutdown came first.
    private func prepare() async -> Bool {
        var backoff = settings.backoff
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            do {
                let moved = try await outbox.prepare()
                if moved > 0 { logger.notice("parked audit records moved into the outbox", metadata: ["records": "\(moved)"]) }
                return true
            } catch {
                if backoff == settings.backoff { logger.warning("audit outbox unavailable, retrying", metadata: ["error": "\(error)"]) }
                await Self.sleep(backoff.next())
            }
        }
        return false
    }

    /// One batch: read, append, settle. Returns how many entries it took; throws when Redis
    /// failed or an append did (the caller backs off).
    private func round(cursor: inout String) async throws -> Int {
        let batch = try await outbox.read(consumer: consumer, cursor: cursor, now: Self.nowMillis())
        cursor = batch.cursor
        metrics.entries.record(batch.length)
        metrics.deadLetters.increment(by: batch.deadLettered)
        countLostDeadLetters(batch.deadLettersLost)
        guard !batch.entries.isEmpty else { return 0 }
        let results = await sender.deliver(batch.entries)
        let delivered = results.compactMap { $0.result == .delivered ? $0.entry.id : nil }
        let dead = results.compactMap { item -> (id: String, envelope: String)? in
            guard case .dead(let reason) = item.result else { return nil }
            return (item.entry.id, OutboxDeadLetter(reason: reason, entry: item.entry, at: Self.nowMillis()).json())
        }
        let lost = try await outbox.settle(delivered: delivered, dead: dead)
        metrics.appended.increment(by: delivered.count)
        metrics.deadLetters.increment(by: dead.count - lost)
        countLostDeadLetters(lost)
        let failed = results.count - delivered.count - dead.count
        guard failed == 0 else { throw DeliveryFailed(failed: failed, of: results.count) }
        return results.count
    }

    /// A dead list Redis cannot push to (its key holds another type) must not stop delivery:
    /// the entries leave the outbox anyway, and the operator learns of it here.
    private func countLostDeadLetters(_ lost: Int) {
        guard lost > 0 else { return }
        metrics.deadLettersLost.increment(by: lost)
        logger.error("dead letters could not be kept: the dead-letter list refused them", metadata: ["lost": "\(lost)"])
    }

    /// A pause that graceful shutdown ends early.
    private static func sleep(_ duration: Duration) async {
        try? await cancelWhenGracefulShutdown { try await Task.sleep(for: duration) }
    }

    /// The pod's name in Kubernetes.
    private static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "webapp" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func nowMillis() -> Int64 {
        Int64(Date().timeIntervalSince1970 * 1000)
    }
}

struct DeliveryFailed: Error, CustomStringConvertible {
    let failed: Int
    let of: Int
    var description: String { "\(failed) of \(of) appends failed; they stay in the outbox" }
}

/// What the dead-letter list keeps of an entry: why, and the record itself (at most the
/// outbox's record limit: larger ones never leave Redis).
struct OutboxDeadLetter: Encodable {
    let reason: String
    let entry: String
    let record: String
    let deadLetteredAt: Int64

    init(reason: String, entry: AuditOutbox.Entry, at millis: Int64) {
        self.reason = reason
        self.entry = entry.id
        self.record = entry.body
        self.deadLetteredAt = millis
    }

    func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(self) else { return #"{"reason":"unencodable dead letter"}"# }
        return String(decoding: data, as: UTF8.self)
    }
}

/// The outbox's delivery on /metrics.
struct AuditDeliveryMetrics: Sendable {
    /// Entries in the outbox stream (added and not yet delivered), as of the last round.
    let entries = Gauge(label: "webapp_audit_outbox_entries")
    let appended = Counter(label: "webapp_audit_appends_total")
    /// Appends that failed (auditservice unavailable); their entries are taken again later.
    let failures = Counter(label: "webapp_audit_append_failures_total")
    let deadLetters = Counter(label: "webapp_audit_dead_letters_total")
    /// Entries that left the outbox as dead letters the dead-letter list could not take.
    let deadLettersLost = Counter(label: "webapp_audit_dead_letters_lost_total")
}
