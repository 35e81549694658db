import Platform

/// The arguments of one `applyBatch` call, built from the messages taken and their decisions.
struct EventBatch {
    private(set) var keys: [String]
    private(set) var arguments: [String]
    /// The records that carry a `traceparent`, for the worker's spans.
    private(set) var traced: [TracedRecord] = []

    struct TracedRecord: Equatable {
        let url: String
        let id: String?
        let traceparent: String
    }

    init(messages: [String], keys eventKeys: EventKeys, settings: EventWorkerSettings, now: Date = Date()) {
        keys = [eventKeys.processing, eventKeys.counts, eventKeys.log, eventKeys.dead, eventKeys.seen, eventKeys.seenPrevious]
        let millis = Int64(now.timeIntervalSince1970 * 1000)
        arguments = ["\(settings.logCapacity)", "\(settings.summaryTTLSeconds)", "\(settings.dedupeWindow)", "\(millis)"]
        arguments.reserveCapacity(arguments.count + messages.count * 4)
        for raw in messages {
            switch MessageDecision.decide(raw, queue: eventKeys.queue) {
            case .record(let url, let id, let traceparent):
                arguments += ["r", raw, url, id ?? ""]
                if let traceparent { traced.append(TracedRecord(url: url, id: id, traceparent: traceparent)) }
            case .summary(let returnPath, let deadline):
                keys.append(returnPath)
                arguments += ["s", raw, "\(keys.count)", deadline.map { "\($0)" } ?? ""]  // Lua's KEYS are 1-based
            case .deadLetter(let reason):
                arguments += ["d", raw, DeadLetter(reason: reason, message: raw, deadLetteredAt: millis).json(), ""]
            }
        }
    }
}

/// What one `applyBatch` call did.
struct AppliedCounts: Equatable, Sendable {
    var records = 0
    var summaries = 0
    var deadLetters = 0
    /// Records whose id was applied before (a producer's resend): acknowledged, not counted.
    var duplicates = 0
    /// Summary requests taken after their deadline: acknowledged, not answered.
    var expired = 0
    /// Messages whose dead letter could not be written (dropped all the same), and why.
    var deadLettersLost = 0
    var loss: String? = nil

    /// Both counts together (a round's take and its apply).
    static func + (lhs: AppliedCounts, rhs: AppliedCounts) -> AppliedCounts {
        AppliedCounts(
            records: lhs.records + rhs.records, summaries: lhs.summaries + rhs.summaries,
            deadLetters: lhs.deadLetters + rhs.deadLetters, duplicates: lhs.duplicates + rhs.duplicates,
            expired: lhs.expired + rhs.expired, deadLettersLost: lhs.deadLettersLost + rhs.deadLettersLost,
            loss: lhs.loss ?? rhs.loss
        )
    }
}
