import Synchronization

/// A bounded FIFO of page events between the request path and the background sender.
///
/// Hand-written rather than an `AsyncStream`: the sender needs "everything waiting, up to N" in
/// one go to build a batch, which an async iterator cannot give without awaiting each element.
/// Appending never waits: when the buffer is full the event is refused and counted by the caller.
final class EventBuffer: Sendable {
    private struct State {
        var events: [PageEvent] = []
        var waiter: CheckedContinuation<Void, Never>?
        var finished = false
    }

    let capacity: Int
    private let state = Mutex(State())

    init(capacity: Int) {
        precondition(capacity > 0, "an event buffer needs room for at least one event")
        self.capacity = capacity
    }

    /// Adds an event; false when the buffer is full (the event is dropped).
    func append(_ event: PageEvent) -> Bool {
        let (accepted, waiter) = state.withLock { state -> (Bool, CheckedContinuation<Void, Never>?) in
            guard state.events.count < capacity else { return (false, nil) }
            state.events.append(event)
            defer { state.waiter = nil }
            return (true, state.waiter)
        }
        waiter?.resume()
        return accepted
    }

    /// Removes and returns up to `limit` of the oldest events, without waiting.
    func take(upTo limit: Int) -> [PageEvent] {
        state.withLock { state in
            let count = min(limit, state.events.count)
            let batch = Array(state.events.prefix(count))
            state.events.removeFirst(count)
            return batch
        }
    }

    var count: Int { state.withLock { $0.events.count } }
    var isFinished: Bool { state.withLock { $0.finished } }

    /// Suspends until an event is waiting, the buffer is finished, or the task is cancelled.
    func waitForEvents() async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state in
                    if !state.events.isEmpty || state.finished || Task.isCancelled { return true }
                    state.waiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            wake()
        }
    }

    /// No more waiting for new events: the sender drains what is left and stops (shutdown).
    func finish() {
        state.withLock { $0.finished = true }
        wake()
    }

    private func wake() {
        let waiter = state.withLock { state in
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume()
    }
}

/// One page view, as the event's URL and the page's `traceparent` when it was traced. Encoded
/// into the queue message by the sender, off the request path.
struct PageEvent: Sendable, Equatable {
    let url: String
    var traceparent: String? = nil
}
