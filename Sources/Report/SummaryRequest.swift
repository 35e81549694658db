import Contracts
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import RedisAdapter

/// Asks the eventservice for a summary: LPUSH a `summary` message naming a return path no one
/// else uses (in the reply key space, with a UUID suffix), then BLPOP that path. Two reports at
/// once never see each other's answers.
///
/// The request carries its deadline (by Redis's clock, so no two machines' clocks are compared):
/// a worker that takes it later discards it. When no answer came, the report also takes its
/// request back out of the queue, so nothing lingers either way.
struct SummaryRequest: Sendable {
    let queue: String
    let returnPath: String
    /// What was asked for, for messages.
    let timeout: Duration
    /// When the report stops waiting for the answer.
    let answerBy: ContinuousClock.Instant

    init(
        queue: String = EventQueueContract.queue,
        returnPath: String = EventQueueContract.replyPath(suffix: UUID().uuidString), timeout: Duration,
        startedAt start: ContinuousClock.Instant = .now
    ) {
        self.queue = queue
        self.returnPath = returnPath
        self.timeout = timeout
        answerBy = start + timeout
    }

    /// The message, in the seeds' format plus the deadline.
    func message(deadline: Int64) -> String {
        EventQueueContract.summaryMessage(returnPath: returnPath, deadline: deadline)
    }

    /// Sends the request and returns the raw JSON answer. `connection` must allow commands that
    /// last until `answerBy` plus a margin (it blocks in BLPOP).
    func send(on connection: RedisConnection, progress: ReportProgress? = nil) async throws -> String {
        progress?.enter(.sending)
        let message = message(deadline: try await Self.redisMillis(on: connection) + Self.millis(answerBy - .now))
        _ = try await connection.command(["LPUSH", queue, message])
        progress?.enter(.waiting)
        let reply = try await connection.command(["BLPOP", returnPath, Self.blockSeconds(answerBy - .now)])
        guard let pair = reply.array, pair.count == 2, let answer = pair[1].string else {
            // Nobody answered: do not leave the request behind for a worker that starts later.
            _ = try? await connection.command(["LREM", queue, "1", message])
            throw ReportFailure.noAnswer(timeout: timeout)
        }
        return answer
    }

    /// Redis's clock (TIME), in ms since the epoch: the clock the worker checks deadlines by.
    static func redisMillis(on connection: RedisConnection) async throws -> Int64 {
        let time = try await connection.command(["TIME"]).array ?? []
        guard time.count == 2, let seconds = time[0].string.flatMap({ Int64($0) }),
            let micros = time[1].string.flatMap({ Int64($0) })
        else { throw ReportFailure.redisUnreachable("TIME answered \(time)") }
        return seconds * 1000 + micros / 1000
    }

    /// BLPOP's timeout for `remaining`: whole milliseconds, rounded up, at least 10 ms. Redis
    /// reads the seconds as a long double and truncates to milliseconds, so "0.001" would become
    /// 0, which means block forever.
    static func blockSeconds(_ remaining: Duration) -> String {
        seconds(.milliseconds(max(10, millis(remaining) + 1)))
    }

    static func millis(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    /// Parses the eventservice's answer, `{"<url>": <count>, …}`.
    static func counts(from answer: String) throws(ReportFailure) -> [String: Int] {
        do {
            return try JSONDecoder().decode([String: Int].self, from: Data(answer.utf8))
        } catch {
            throw ReportFailure.badAnswer(answer)
        }
    }

    /// Seconds with three decimals, or six when three would hide the value (0.0001 s).
    static func seconds(_ duration: Duration) -> String {
        // By hand: String(format:) is not in FoundationEssentials.
        let (seconds, attoseconds) = duration.components
        let micros = seconds * 1_000_000 + Int64((Double(attoseconds) / 1e12).rounded())
        let digits = micros % 1000 == 0 || micros >= 1_000_000 ? 3 : 6
        let scaled = digits == 3 ? (micros + 500) / 1000 : micros
        let unit: Int64 = digits == 3 ? 1000 : 1_000_000
        let fraction = String(scaled % unit)
        return "\(scaled / unit)." + String(repeating: "0", count: digits - fraction.count) + fraction
    }
}
