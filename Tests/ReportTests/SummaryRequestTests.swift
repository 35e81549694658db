import Discovery
import Foundation
import Logging
import TestSupport
import Testing

@testable import EventService
@testable import RedisAdapter
@testable import Report

/// The report's request against a real redis-server and a real eventservice worker, in process.
@Suite("Summary requests", .stopsServers)
struct SummaryRequestTests {
    @Test func twoConcurrentReportsEachGetTheirOwnAnswer() async throws {
        let redis = try await RedisServer.start()
        let worker = startWorker(port: redis.port)
        defer { worker.cancel() }
        let setup = try await connect(redis.port)
        defer { setup.close() }
        _ = try await setup.pipeline(
            (0..<30).map { index in
                ["LPUSH", "eventservice", #"{"action":"record","type":"page","url":"http://h/\#(index % 3)"}"#]
            })

        let answers = try await withThrowingTaskGroup(of: (String, String).self) { group in
            for _ in 0..<2 {
                group.addTask {
                    let connection = try await connect(redis.port, commandTimeout: .seconds(12))
                    defer { connection.close() }
                    let request = SummaryRequest(timeout: .seconds(10))
                    return (request.returnPath, try await request.send(on: connection))
                }
            }
            return try await group.reduce(into: [(String, String)]()) { $0.append($1) }
        }
        #expect(answers.count == 2)
        #expect(Set(answers.map(\.0)).count == 2)
        for (path, answer) in answers {
            #expect(try SummaryRequest.counts(from: answer) == ["http://h/0": 10, "http://h/1": 10, "http://h/2": 10])
            #expect(try await setup.command(["EXISTS", path]) == .integer(0))  // taken, nothing left behind
        }
    }

    @Test func noWorkerMeansNoAnswerAndTheRequestIsWithdrawn() async throws {
        let redis = try await RedisServer.start()
        let connection = try await connect(redis.port)
        defer { connection.close() }
        let request = SummaryRequest(timeout: .milliseconds(300))
        await #expect(throws: ReportFailure.noAnswer(timeout: .milliseconds(300))) {
            try await request.send(on: connection)
        }
        #expect(try await connection.command(["LLEN", "eventservice"]) == .integer(0))
    }
}

@Suite("Summary request deadlines")
struct SummaryDeadlineTests {
    /// Redis truncates BLPOP's seconds to whole milliseconds; 0 would mean forever.
    @Test(arguments: [
        (Duration.milliseconds(1), "0.010"), (.microseconds(1), "0.010"), (.seconds(-1), "0.010"),
        (.milliseconds(250), "0.251"), (.seconds(5), "5.001"),
    ])
    func blockSecondsNeverRoundToForever(remaining: Duration, expected: String) {
        #expect(SummaryRequest.blockSeconds(remaining) == expected)
    }

    @Test func theRequestCarriesItsDeadlineByRedissClock() async throws {
        let redis = try await RedisServer.start()
        let connection = try await connect(redis.port)
        let observer = try await connect(redis.port)
        defer { connection.close(); observer.close() }
        // Takes the request off the queue as a worker would, and never answers.
        let before = try await SummaryRequest.redisMillis(on: observer)
        let start = ContinuousClock.now
        async let taken = { (reply: RedisValue) in (reply, ContinuousClock.now) }(
            try await observer.command(["BRPOP", "eventservice", "5"]))
        let request = SummaryRequest(timeout: .seconds(1))
        await #expect(throws: ReportFailure.noAnswer(timeout: .seconds(1))) { try await request.send(on: connection) }

        let (reply, takenAt) = try await taken
        let message = try #require(reply.array?.last?.string)
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(message.utf8)) as? [String: Any])
        #expect(fields["returnPath"] as? String == request.returnPath)
        let deadline = try #require((fields["deadline"] as? NSNumber)?.int64Value)
        // Redis's clock when the request was sent, plus what was left of the timeout: at least
        // `before` + 1 s less however long the sending took (a loaded machine can stretch it),
        // and no later than the end of the wait.
        let now = try await SummaryRequest.redisMillis(on: observer)
        let sending = SummaryRequest.millis(takenAt - start)
        #expect(
            (before + 1_000 - sending - 10...now).contains(deadline),
            "deadline \(deadline), Redis's clock before \(before), sending took \(sending) ms, after the wait \(now)")
    }
}

func connect(_ port: Int, commandTimeout: Duration = .seconds(5)) async throws -> RedisConnection {
    try await RedisConnection.connect(host: "127.0.0.1", port: port, connectTimeout: .seconds(2), commandTimeout: commandTimeout)
}

func startWorker(port: Int) -> Task<Void, any Error> {
    let endpoint: RedisClient.Endpoint = { .init(host: "127.0.0.1", port: port) }
    let logger = Logger(label: "report-test")
    let worker = EventWorker(
        consumer: RedisClient(endpoint: endpoint, logger: logger),
        monitor: RedisClient(endpoint: endpoint, logger: logger),
        logger: logger
    )
    return Task { try await worker.run() }
}
