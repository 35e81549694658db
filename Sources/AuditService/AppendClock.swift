import Platform
import Synchronization

/// Timestamps for appends: wall-clock milliseconds since the epoch, but strictly increasing
/// within the process. Two appends in the same millisecond would otherwise tie on `ts`, and a
/// sort on `{ts: -1}` alone (the one the index serves) would return them in no defined order.
/// Under a burst the stamp runs ahead of the wall clock by at most one millisecond per append
/// in the burst, and falls back in step as soon as the clock passes it.
final class AppendClock: Sendable {
    static let shared = AppendClock()

    private let last = Mutex<Int64>(0)
    private let now: @Sendable () -> Int64

    init(now: @escaping @Sendable () -> Int64 = { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }) {
        self.now = now
    }

    func next() -> Int64 {
        let wallClock = now()
        return last.withLock { last in
            last = max(wallClock, last + 1)
            return last
        }
    }
}
