import Contracts
import Synchronization

/// One append waiting for delivery; `parked` is its entry in the parking list when it came from
/// there (removed once delivered).
struct PendingAppend: Sendable {
    let append: AuditAppend
    var parked: String? = nil
}

/// The bounded FIFO between calculations and the audit senders. A full queue makes `put` wait
/// for room, for a bounded time: a calculation may be slowed down by a slow audit history, or
/// refused when the history stays full, never dropped from it after it was accepted.
///
/// Hand-written rather than an `AsyncStream`: a stream's bounded policies drop elements when
/// full, and waiting for room is the whole point here.
final class AuditQueue: Sendable {
    private struct State {
        var items: [PendingAppend] = []
        var head = 0
        var putters: [Putter] = []
        var nextPutter: UInt64 = 0
        var takers: [CheckedContinuation<PendingAppend?, Never>] = []
        var finished = false
        var count: Int { items.count - head }
    }

    /// A record waiting for room; resumed with true when it was let in, false when it gave up.
    private struct Putter {
        let id: UInt64
        let item: PendingAppend
        let continuation: CheckedContinuation<Bool, Never>
    }

    /// How a record got in, or that it did not.
    enum Admission: Equatable {
        case queued
        /// Queued after waiting for room: the history is behind.
        case queuedAfterWaiting
        /// Still no room after the longest wait: the record is not queued.
        case refused
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        precondition(capacity > 0, "an audit queue needs room for at least one record")
        self.capacity = capacity
    }

    /// Adds a record, waiting while the queue is full: up to `maximumWait`, or for as long as
    /// it takes when that is nil (records resumed from parking, which stay parked until delivered anyway). After `finish`
    /// records are still taken: a calculation finishing during shutdown is drained or parked
    /// like the rest.
    @discardableResult
    func put(_ item: PendingAppend, waitingAtMost maximumWait: Duration?) async -> Admission {
        enum Outcome { case handed(CheckedContinuation<PendingAppend?, Never>), queued, full }
        let outcome = state.withLock { state -> Outcome in
            if !state.takers.isEmpty { return .handed(state.takers.removeFirst()) }
            guard state.count < capacity else { return .full }
            state.items.append(item)
            return .queued
        }
        switch outcome {
        case .handed(let taker):
            taker.resume(returning: item)
            return .queued
        case .queued:
            return .queued
        case .full:
            let admitted = await withCheckedContinuation { continuation in
                let (taker, admitted, id) = state.withLock { state -> (CheckedContinuation<PendingAppend?, Never>?, Bool, UInt64) in
                    if !state.takers.isEmpty { return (state.takers.removeFirst(), true, 0) }
                    if state.count < capacity {
                        state.items.append(item)
                        return (nil, true, 0)
                    }
                    state.nextPutter += 1
                    state.putters.append(Putter(id: state.nextPutter, item: item, continuation: continuation))
                    return (nil, false, state.nextPutter)
                }
                taker?.resume(returning: item)
                if admitted {
                    continuation.resume(returning: true)
                } else if let maximumWait {
                    Task { [self] in
                        try? await Task.sleep(for: maximumWait)
                        giveUp(id)
                    }
                }
            }
            return admitted ? .queuedAfterWaiting : .refused
        }
    }

    /// Ends a putter's wait unless it was let in meanwhile (the lock decides which happened).
    private func giveUp(_ id: UInt64) {
        let putter = state.withLock { state -> Putter? in
            guard let index = state.putters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.putters.remove(at: index)
        }
        putter?.continuation.resume(returning: false)
    }

    /// The oldest record, waiting for one; nil once the queue is finished and empty.
    func take() async -> PendingAppend? {
        if let item = takeNow() { return item }
        return await withCheckedContinuation { continuation in
            let immediate = state.withLock { state -> PendingAppend?? in
                if let item = Self.pop(&state) { return .some(item) }
                if state.finished { return .some(nil) }
                state.takers.append(continuation)
                return .none
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    /// Everything still queued (and waiting to be queued), without waiting: what is left at the
    /// end of a shutdown drain.
    func takeAll() -> [PendingAppend] {
        var all: [PendingAppend] = []
        while let item = takeNow() { all.append(item) }
        return all
    }

    var count: Int { state.withLock { $0.count + $0.putters.count } }

    /// No more waiting: takers get nil once the queue is empty.
    func finish() {
        let takers = state.withLock { state in
            state.finished = true
            defer { state.takers = [] }
            return state.takers
        }
        for taker in takers { taker.resume(returning: nil) }
    }

    private func takeNow() -> PendingAppend? {
        state.withLock { Self.pop(&$0) }
    }

    /// Takes the head and lets the first waiting putter in.
    private static func pop(_ state: inout State) -> PendingAppend? {
        guard state.count > 0 else { return nil }
        let item = state.items[state.head]
        state.head += 1
        if state.head > 1024, state.head * 2 > state.items.count {
            state.items.removeFirst(state.head)
            state.head = 0
        }
        if !state.putters.isEmpty {
            let putter = state.putters.removeFirst()
            state.items.append(putter.item)
            putter.continuation.resume(returning: true)
        }
        return item
    }
}
