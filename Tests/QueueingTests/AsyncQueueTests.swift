import Queueing
import Testing

/// No test here sleeps: ordering comes from the queue's own state (`waiting`), cancellation, and a
/// clock the test moves (`ManualClock`) or a deadline already past.
@Suite("AsyncQueue", .timeLimit(.minutes(1)))
struct AsyncQueueTests {
    @Test func handsElementsOutInTheOrderOffered() async throws {
        let queue = AsyncQueue<Int>(capacity: 8)
        for element in 1...5 { #expect(queue.offer(element)) }
        #expect(try await queue.next() == 1)
        #expect(try await queue.next() == 2)
        #expect(queue.take(upTo: 2) == [3, 4])
        var batch = [try #require(try await queue.next())]
        queue.offer(6)
        queue.take(upTo: 10, into: &batch)
        #expect(batch == [5, 6])
        #expect(queue.count == 0)
    }

    @Test func refusesAnOfferWhenFull() async throws {
        let queue = AsyncQueue<Int>(capacity: 2)
        #expect(queue.offer(1))
        #expect(queue.offer(2))
        #expect(!queue.offer(3))
        #expect(queue.count == 2)
        #expect(try await queue.next() == 1)
        #expect(queue.offer(4))
        #expect(queue.take(upTo: 10) == [2, 4])
    }

    @Test func waitingConsumersAreServedFirstComeFirstServed() async throws {
        let queue = AsyncQueue<Int>(capacity: 1)
        let first = Task { try await queue.next() }
        await yieldUntil { queue.waiting == 1 }
        let second = Task { try await queue.next() }
        await yieldUntil { queue.waiting == 2 }
        // Handed straight to the waiters, so a queue of one takes both.
        #expect(queue.offer(10))
        #expect(queue.offer(20))
        #expect(try await first.value == 10)
        #expect(try await second.value == 20)
        #expect(queue.count == 0)
    }

    @Test func aConsumerCancelledWhileWaitingIsNeverHandedAnElement() async throws {
        let queue = AsyncQueue<Int>(capacity: 4)
        let consumer = Task { try await queue.next() }
        await yieldUntil { queue.waiting == 1 }
        consumer.cancel()
        await #expect(throws: CancellationError.self) { try await consumer.value }
        #expect(queue.waiting == 0)
        #expect(queue.offer(7))
        #expect(queue.count == 1, "the element stays queued, not handed to the cancelled consumer")
        #expect(try await queue.next() == 7)
    }

    @Test func aConsumerCancelledAfterItsElementArrivedKeepsIt() async throws {
        let queue = AsyncQueue<Int>(capacity: 4)
        let consumer = Task { try await queue.next() }
        await yieldUntil { queue.waiting == 1 }
        #expect(queue.offer(7))
        consumer.cancel()
        #expect(try await consumer.value == 7)
        #expect(queue.count == 0)
    }

    @Test func aConsumerAlreadyCancelledDoesNotWait() async throws {
        let queue = AsyncQueue<Int>(capacity: 4)
        let consumer = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await queue.next()
        }
        await #expect(throws: CancellationError.self) { try await consumer.value }
        #expect(queue.waiting == 0)
        // What is already queued is handed even to a cancelled task: it did not have to wait.
        queue.offer(1)
        let late = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await queue.next()
        }
        #expect(try await late.value == 1)
    }

    @Test func aDeadlineThatPassesWhileWaitingEndsTheWaitAndTheWaiter() async throws {
        let clock = ManualClock()
        let queue = AsyncQueue<Int>(capacity: 4)
        let consumer = Task { try await queue.next(until: clock.now.advanced(by: .seconds(5)), clock: clock) }
        await yieldUntil { queue.waiting == 1 && clock.sleeping == 1 }
        clock.advance(by: .seconds(4))
        #expect(queue.waiting == 1, "not yet")
        clock.advance(by: .seconds(1))
        await #expect(throws: DeadlineExceeded.self) { try await consumer.value }
        #expect(queue.waiting == 0)
        #expect(queue.offer(7))
        #expect(queue.count == 1, "the element stays queued, not handed to the expired consumer")
    }

    @Test func anElementBeforeTheDeadlineStopsTheTimer() async throws {
        let clock = ManualClock()
        let queue = AsyncQueue<Int>(capacity: 4)
        let consumer = Task { try await queue.next(until: clock.now.advanced(by: .seconds(5)), clock: clock) }
        await yieldUntil { queue.waiting == 1 && clock.sleeping == 1 }
        queue.offer(3)
        #expect(try await consumer.value == 3)
        #expect(clock.sleeping == 0)
    }

    @Test func aDeadlineAlreadyPastGivesWhatIsQueuedOrNothing() async throws {
        let queue = AsyncQueue<Int>(capacity: 4)
        await #expect(throws: DeadlineExceeded.self) { try await queue.next(timeout: .zero) }
        #expect(queue.waiting == 0)
        queue.offer(1)
        #expect(try await queue.next(timeout: .zero) == 1)
    }

    @Test func cancellingAConsumerWithADeadlineIsACancellationNotATimeout() async throws {
        let clock = ManualClock()
        let queue = AsyncQueue<Int>(capacity: 4)
        let consumer = Task { try await queue.next(until: clock.now.advanced(by: .seconds(5)), clock: clock) }
        await yieldUntil { queue.waiting == 1 && clock.sleeping == 1 }
        consumer.cancel()
        await #expect(throws: CancellationError.self) { try await consumer.value }
        #expect(queue.waiting == 0)
        #expect(clock.sleeping == 0)
    }

    @Test func finishWakesWaitingConsumersAndStillKeepsOffers() async throws {
        let queue = AsyncQueue<Int>(capacity: 4)
        let consumer = Task { try await queue.next() }
        await yieldUntil { queue.waiting == 1 }
        queue.finish()
        #expect(try await consumer.value == nil)
        #expect(queue.isFinished)
        #expect(queue.offer(1))
        #expect(try await queue.next() == 1)
        #expect(try await queue.next() == nil)
    }

    @Test func manyProducersAndConsumersHandEachElementOverExactlyOnce() async throws {
        let producers = 8, perProducer = 2_000, consumers = 4
        let queue = AsyncQueue<Int>(capacity: 16)
        let received = try await withThrowingTaskGroup(of: [Int].self) { group in
            for _ in 0..<consumers {
                group.addTask {
                    var got: [Int] = []
                    while let element = try await queue.next() { got.append(element) }
                    return got
                }
            }
            try await withThrowingTaskGroup(of: Void.self) { producing in
                for producer in 0..<producers {
                    producing.addTask {
                        for index in 0..<perProducer {
                            // Full: let a consumer run, then offer again.
                            while !queue.offer(producer * perProducer + index) {
                                await Task.yield()
                            }
                        }
                    }
                }
                try await producing.waitForAll()
            }
            queue.finish()
            return try await group.reduce(into: []) { $0 += $1 }
        }
        #expect(received.count == producers * perProducer)
        #expect(Set(received) == Set(0..<producers * perProducer))
        #expect(queue.count == 0 && queue.waiting == 0)
    }
}

@Suite("withDeadline", .timeLimit(.minutes(1)))
struct DeadlineTests {
    @Test func aValueThatArrivesAsTheDeadlinePassesIsReturnedNotDropped() async throws {
        let clock = ManualClock()
        let gate = AsyncQueue<Int>(capacity: 1)
        // An operation that finishes with a value even when cancelled.
        let call = Task {
            try await withDeadline(clock.now.advanced(by: .seconds(1)), clock: clock) {
                while true {
                    if let value = gate.take(upTo: 1).first { return value }
                    await Task.yield()
                }
            }
        }
        await yieldUntil { clock.sleeping == 1 }
        clock.advance(by: .seconds(1))
        gate.offer(42)
        #expect(try await call.value == 42)
    }

    @Test func anOperationEndedByTheDeadlineThrowsDeadlineExceeded() async throws {
        let clock = ManualClock()
        let call = Task {
            try await withDeadline(clock.now.advanced(by: .seconds(1)), clock: clock) {
                try await clock.sleep(until: clock.now.advanced(by: .seconds(60)))
            }
        }
        await yieldUntil { clock.sleeping == 2 }
        clock.advance(by: .seconds(1))
        await #expect(throws: DeadlineExceeded.self) { try await call.value }
    }
}
