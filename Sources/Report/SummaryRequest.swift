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
struct SummaryRequest: Sendable {
    let queue: String
    let returnPath: String
    let timeout: Duration

    init(
        queue: String = EventQueueContract.queue,
        returnPath: String = EventQueueContract.replyPath(suffix: UUID().uuidString), timeout: Duration
    ) {
        self.queue = queue
        self.returnPath = returnPath
        self.timeout = timeout
    }

    /// The message, in the seeds' format.
    var message: String { EventQueueContract.summaryMessage(returnPath: returnPath) }

    /// Sends the request and returns the raw JSON answer. `connection` must allow commands of
    /// `timeout` plus a margin (it blocks in BLPOP).
    func send(on connection: RedisConnection) async throws -> String {
        _ = try await connection.command(["LPUSH", queue, message])
        let reply = try await connection.command(["BLPOP", returnPath, Self.seconds(timeout)])
        guard let pair = reply.array, pair.count == 2, let answer = pair[1].string else {
            // Nobody answered: do not leave the request behind for a worker that starts later.
            _ = try? await connection.command(["LREM", queue, "1", message])
            throw ReportFailure.noAnswer(timeout: timeout)
        }
        return answer
    }

    /// Parses the eventservice's answer, `{"<url>": <count>, …}`.
    static func counts(from answer: String) throws(ReportFailure) -> [String: Int] {
        do {
            return try JSONDecoder().decode([String: Int].self, from: Data(answer.utf8))
        } catch {
            throw ReportFailure.badAnswer(answer)
        }
    }

    static func seconds(_ duration: Duration) -> String {
        // Milliseconds by hand: String(format:) is not in FoundationEssentials.
        let (seconds, attoseconds) = duration.components
        let millis = seconds * 1000 + Int64((Double(attoseconds) / 1e15).rounded())
        let fraction = String(millis % 1000)
        return "\(millis / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
