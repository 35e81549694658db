import NIOCore
import Synchronization

/// A bounded FIFO between producers that never wait and consumers that may: `offer` refuses an
/// element when the queue is full; `next` hands the oldest element, or suspends until one is
/// offered, its deadline passes or its task is cancelled. A consumer that stops waiting is taken
/// out of the line at once and is never handed an element later, so nothing offered is lost.
///
/// Written here rather than taken from swift-async-algorithms: its `AsyncChannel` makes producers
/// wait instead of refusing, and neither it nor `AsyncStream` has deadlines or takes a batch of
/// what is waiting in one go (`take(upTo:)`, the page-event sender's).
///
/// `offer`, `next()` and `take(upTo:)` are inlinable: the webapp offers on every page and takes a
/// batch every few, and an unspecialized generic call from another module costs that path.
public final class AsyncQueue<Element: Sendable>: Sendable {
    @usableFromInline
    struct State {
        @usableFromInline var elements = CircularBuffer<Element>()
        @usableFromInline var waiters = Waiters<Element?>()
        @usableFromInline var finished = false
    }

    public let capacity: Int
    @usableFromInline let state = Mutex(State())

    public init(capacity: Int) {
        precondition(capacity > 0, "a queue needs room for at least one element")
        self.capacity = capacity
    }

    /// Queues `element`, or hands it straight to the longest-waiting consumer. False when the
    /// queue is full: the element is not kept.
    @inlinable @discardableResult
    public func offer(_ element: Element) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, Waiters<Element?>.Continuation?) in
            if let waiter = state.waiters.removeFirst() { return (true, waiter) }
            guard state.elements.count < capacity else { return (false, nil) }
            state.elements.append(element)
            return (true, nil)
        }
        waiter?.resume(returning: element)
        return accepted
    }

    /// The oldest element; else, once finished, nil; else suspends for the next one offered.
    /// Throws `CancellationError` when the task is cancelled while waiting.
    @inlinable
    public func next() async throws -> Element? {
        let first = state.withLock { state -> (Step, Waiters<Element?>.ID) in (Self.step(&state), state.waiters.makeID()) }
        if case .element(let element) = first.0 { return element }
        let id = first.1
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                // Checked again under the lock that queues the waiter: an offer, `finish` or
                // cancellation may have come since the first look.
                let now = state.withLock { state -> Result<Element?, any Error>? in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if case .element(let element) = Self.step(&state) { return .success(element) }
                    state.waiters.append(continuation, id: id)
                    return nil
                }
                if let now { continuation.resume(with: now) }
            }
        } onCancel: {
            state.withLock { $0.waiters.remove(id) }?.resume(throwing: CancellationError())
        }
    }

    /// `next()`, giving up with `DeadlineExceeded` when `deadline` passes on `clock` first.
    public func next<C: Clock>(until deadline: C.Instant, clock: C) async throws -> Element? {
        if let ready = state.withLock({ $0.elements.popFirst() }) { return ready }
        return try await withDeadline(deadline, clock: clock) { try await self.next() }
    }

    /// `next()`, giving up with `DeadlineExceeded` after `timeout`.
    public func next(timeout: Duration) async throws -> Element? {
        try await next(until: .now + timeout, clock: ContinuousClock())
    }

    /// Removes and returns up to `limit` of the oldest elements, without waiting.
    @inlinable
    public func take(upTo limit: Int) -> [Element] {
        var batch: [Element] = []
        take(upTo: limit, into: &batch)
        return batch
    }

    /// Removes up to `limit` of the oldest elements onto the end of `batch`, without waiting: a
    /// consumer that already holds the first of a batch (from `next`) makes one array, not two.
    @inlinable
    public func take(upTo limit: Int, into batch: inout [Element]) {
        state.withLock { state in
            let count = min(limit, state.elements.count)
            batch.reserveCapacity(batch.count + count)
            for _ in 0..<count { batch.append(state.elements.removeFirst()) }
        }
    }

    /// Elements queued (not counting any handed to a consumer).
    public var count: Int { state.withLock { $0.elements.count } }
    public var isFinished: Bool { state.withLock { $0.finished } }
    /// Consumers suspended in `next`.
    public var waiting: Int { state.withLock { $0.waiters.count } }

    /// Ends waiting, not the queue: consumers waiting now are resumed with nil, and a later
    /// `next()` returns what is queued and then nil instead of suspending. Offers are still
    /// accepted, so a producer that races shutdown keeps its element for a final `take(upTo:)`.
    public func finish() {
        let waiters = state.withLock { state in
            state.finished = true
            return state.waiters.removeAll()
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }

    @usableFromInline
    enum Step {
        case element(Element?)
        case wait
    }

    /// What a consumer gets now: the oldest element, nil once finished, or nothing yet.
    @inlinable
    static func step(_ state: inout State) -> Step {
        if let element = state.elements.popFirst() { return .element(element) }
        return state.finished ? .element(nil) : .wait
    }
}
