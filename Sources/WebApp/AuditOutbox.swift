import Contracts
import Queueing
import RedisAdapter

/// The durable outbox of audit records: a Redis stream, `webapp:audit:outbox`, that every
/// webapp adds a calculation's `/append` body to before its page is sent, and that the webapps'
/// `AuditDelivery` services drain into auditservice as one consumer group.
///
/// A stream rather than a list because a consumer group keeps, per entry, which consumer took it
/// and when: entries a webapp took and never acknowledged (it was killed, or auditservice failed)
/// are claimed again by any webapp once they have been idle `Settings.claimAfter` (XAUTOCLAIM),
/// with no bookkeeping of who is alive. Delivery is at least once and auditservice stores one
/// record per id, so a calculation is stored exactly once.
///
/// The writer and the reader use connections of their own: the writer is on a page's path and
/// must not wait behind a batch being read.
struct AuditOutbox: Sendable {
    struct Keys: Sendable, Equatable {
        /// The stream: one entry per calculation, field `record` holding the `/append` body and,
        /// when the page was traced, `traceparent` its span (W3C Trace Context).
        let stream: String
        /// Entries that can never be delivered (no record, too large, refused by auditservice),
        /// as JSON envelopes with the reason: a list, newest first.
        let dead: String
        /// The consumer group every webapp reads in.
        let group: String
        /// Where a webapp of the previous design parked what it could not deliver: moved into
        /// the stream at start, so an upgrade loses nothing.
        let legacyParking: String

        static let standard = Keys(
            stream: "webapp:audit:outbox", dead: "webapp:audit:dead", group: "delivery", legacyParking: "webapp:audit:pending"
        )
    }

    struct Settings: Sendable {
        /// Entries the stream may hold; a calculation beyond it is refused (503), not dropped
        /// later. About 150 bytes of Redis memory each.
        var capacity = 200_000
        /// Entries one delivery round reads and appends concurrently.
        var batchSize = 64
        /// An entry taken by a webapp and not acknowledged for this long is taken again by any
        /// webapp. Longer than one append may take (connect 0.5 s + 3 s deadline), so a live
        /// webapp's append in flight is rarely repeated (a repeat would be harmless anyway).
        var claimAfter: Duration = .seconds(10)
        /// `record` bodies over this size are dead-lettered by the read script, inside Redis:
        /// the webapp never loads one (a record is about 100 bytes).
        var maximumRecordSize = AuditAppend.maximumBodySize
        init() {}
    }

    /// How an add ended.
    enum Added: Equatable, Sendable {
        case added
        /// The stream holds `capacity` entries: the history is far behind.
        case full
    }

    let writer: RedisClient
    let reader: RedisClient
    let keys: Keys
    let settings: Settings
    /// Signalled by each add of this webapp (at most one signal waits): its delivery takes a new
    /// entry as soon as it is idle, so records flow to auditservice as steadily as calculations
    /// come, rather than in bursts a timer gathered.
    let added = AsyncQueue<Void>(capacity: 1)
    /// `settings.capacity` as the add script's argument, written once.
    private let capacity: String

    init(writer: RedisClient, reader: RedisClient, keys: Keys = .standard, settings: Settings = Settings()) {
        self.writer = writer
        self.reader = reader
        self.keys = keys
        self.settings = settings
        self.capacity = String(settings.capacity)
    }

    /// Adds one record, with the `traceparent` of the page that made it; returns once Redis has
    /// it. Throws a `RedisError` when Redis cannot be reached or answers with an error: the
    /// caller records the calculation another way.
    func add(_ body: String, traceparent: String? = nil) async throws(RedisError) -> Added {
        let arguments = traceparent.map { [capacity, body, $0] } ?? [capacity, body]
        let reply = try await OutboxScripts.add.run(on: writer, keys: [keys.stream], arguments: arguments)
        guard reply.integer != 0 else { return .full }
        added.offer(())
        return .added
    }

    /// One taken entry: its stream id, its `/append` body and the `traceparent` stored with it
    /// (as stored: the delivery parses it, and a malformed one starts a trace of its own).
    struct Entry: Sendable, Equatable {
        let id: String
        let body: String
        var traceparent: String? = nil
    }

    /// What one read gave: entries to deliver, where the next claim continues, how many
    /// entries the stream holds, how many the script dead-lettered and how many it had to drop
    /// because the dead list could not take them.
    struct Batch: Sendable {
        var entries: [Entry]
        var cursor: String
        var length: Int
        var deadLettered: Int
        var deadLettersLost: Int
    }

    /// Up to `batchSize` entries for `consumer`: first those idle longer than `claimAfter`
    /// (taken by a webapp that died, or failed earlier), from `cursor` on, else new ones.
    func read(consumer: String, cursor: String, now: Int64) async throws(RedisError) -> Batch {
        let reply = try await OutboxScripts.read.run(
            on: reader, keys: [keys.stream, keys.dead],
            arguments: [
                keys.group, consumer, "\(settings.batchSize)", "\(settings.claimAfter.milliseconds)", cursor,
                "\(settings.maximumRecordSize)", "\(now)",
            ]
        )
        guard let parts = reply.array, parts.count == 5, let next = parts[0].string, let taken = parts[1].array,
            let length = parts[2].integer, let dead = parts[3].integer, let lost = parts[4].integer
        else { throw RedisError(.reply, "unexpected reply from the outbox read script: \(reply)") }
        let entries = taken.compactMap { taken -> Entry? in
            guard let fields = taken.array, fields.count == 2 || fields.count == 3, let id = fields[0].string, let body = fields[1].string
            else { return nil }
            return Entry(id: id, body: body, traceparent: fields.count == 3 ? fields[2].string : nil)
        }
        return Batch(entries: entries, cursor: next, length: Int(length), deadLettered: Int(dead), deadLettersLost: Int(lost))
    }

    /// Removes delivered entries, and moves `dead` ones (id, envelope) to the dead-letter list,
    /// in one call. Returns how many of `dead` the list could not take (they are gone all the same).
    @discardableResult
    func settle(delivered: [String], dead: [(id: String, envelope: String)]) async throws(RedisError) -> Int {
        guard !delivered.isEmpty || !dead.isEmpty else { return 0 }
        let arguments = [keys.group, "\(delivered.count)"] + delivered + dead.flatMap { [$0.id, $0.envelope] }
        let reply = try await OutboxScripts.settle.run(on: reader, keys: [keys.stream, keys.dead], arguments: arguments)
        return Int(reply.integer ?? 0)
    }

    /// Creates the group when missing and moves records parked by the previous design into the
    /// stream. Safe to run by every webapp at every start.
    func prepare() async throws(RedisError) -> Int {
        let reply = try await OutboxScripts.prepare.run(
            on: reader, keys: [keys.stream, keys.legacyParking], arguments: [keys.group]
        )
        return Int(reply.integer ?? 0)
    }

    /// Forgets consumers (webapps gone long ago) that hold no entries and were idle longer than
    /// `idleFor`; a consumer with entries is kept, so nothing it took is lost.
    func forgetIdleConsumers(idleFor: Duration) async throws(RedisError) -> Int {
        let reply = try await OutboxScripts.forgetIdleConsumers.run(
            on: reader, keys: [keys.stream], arguments: [keys.group, "\(idleFor.milliseconds)"]
        )
        return Int(reply.integer ?? 0)
    }
}

extension Duration {
    /// Whole milliseconds, for Redis arguments.
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }
}
