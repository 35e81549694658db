import Foundation

/// A child's exit status, set once by its waiting thread, and everyone waiting for it: tasks
/// suspend on a continuation (no thread held).
final class ExitLatch: @unchecked Sendable {
    // @unchecked: every stored property is only touched while `lock` is held.
    private let lock = NSLock()
    private var finished: ExitStatus?
    private var waiters: [UInt64: CheckedContinuation<ExitStatus?, Never>] = [:]
    private var timers: [UInt64: Task<Void, Never>] = [:]
    private var nextID: UInt64 = 0

    var status: ExitStatus? { lock.withLock { finished } }

    /// Records the status and wakes every waiter.
    func finish(_ status: ExitStatus) {
        let woken = lock.withLock {
            finished = status
            defer { waiters = [:]; timers = [:] }
            return (Array(waiters.values), Array(timers.values))
        }
        for timer in woken.1 { timer.cancel() }
        for waiter in woken.0 { waiter.resume(returning: status) }
    }

    /// The status once set, or nil after `timeout` or when the waiting task is cancelled.
    func wait(timeout: Duration) async -> ExitStatus? {
        let id = lock.withLock { () -> UInt64 in
            nextID += 1
            return nextID
        }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<ExitStatus?, Never>) in
                let done: ExitStatus?? = lock.withLock {
                    if let finished { return .some(finished) }
                    if Task.isCancelled { return .some(nil) }
                    waiters[id] = continuation
                    timers[id] = Task { [weak self] in
                        try? await Task.sleep(for: timeout)
                        self?.giveUp(id)
                    }
                    return .none
                }
                if let done { continuation.resume(returning: done) }
            }
        } onCancel: {
            giveUp(id)
        }
    }

    private func giveUp(_ id: UInt64) {
        let (waiter, timer) = lock.withLock { (waiters.removeValue(forKey: id), timers.removeValue(forKey: id)) }
        timer?.cancel()
        waiter?.resume(returning: nil)
    }
}
