import NIOCore
import Queueing

/// One target's connections in `ServiceConnectionPool`: the idle ones, how many are open, and the
/// calls waiting for one while the cap is reached. Kept under the pool's lock; the pool closes
/// channels and resumes waiters outside it. A waiter that is cancelled or runs out of time is
/// taken out (`cancel`), so what is freed later goes to the next one still waiting.
struct TargetConnections {
    /// Resumed with a connection to use, or nil: connect a new one (its place is already counted).
    typealias Waiter = Waiters<(any Channel)?>.Continuation
    typealias WaiterID = Waiters<(any Channel)?>.ID

    enum Checkout {
        case reuse(any Channel)
        case connect
        /// The cap is reached: wait, as `id`, for a connection or a place.
        case wait(WaiterID)
    }

    private struct Idle {
        let channel: any Channel
        let since: NIODeadline
    }

    private var idle: [Idle] = []
    private var waiters = Waiters<(any Channel)?>()
    /// Connections open or being opened, idle or carrying a call.
    private(set) var open = 0

    /// The newest idle connection still usable; else room for a new one; else wait. Idle
    /// connections found closed, or idle longer than `maxIdleTime`, go to `stale` to be closed.
    mutating func checkOut(now: NIODeadline, maxOpen: Int, maxIdleTime: TimeAmount, stale: inout [any Channel]) -> Checkout {
        while let candidate = idle.popLast() {
            if candidate.channel.isActive, now - candidate.since < maxIdleTime { return .reuse(candidate.channel) }
            stale.append(candidate.channel)
            open -= 1
        }
        guard open < maxOpen else { return .wait(waiters.makeID()) }
        open += 1
        return .connect
    }

    mutating func enqueue(_ waiter: Waiter, id: WaiterID) {
        waiters.append(waiter, id: id)
    }

    /// The waiter `id`, taken out to be resumed with an error; nil when it was already handed a
    /// connection or a place.
    mutating func cancel(_ id: WaiterID) -> Waiter? {
        waiters.remove(id)
    }

    var waiting: Int { waiters.count }

    /// A connection that can carry another call: handed to the first waiter (returned, to resume
    /// with it), or kept idle.
    mutating func checkIn(_ channel: any Channel, now: NIODeadline) -> Waiter? {
        if let waiter = waiters.removeFirst() { return waiter }
        idle.append(Idle(channel: channel, since: now))
        return nil
    }

    /// A connection closed or never made: its place goes to the first waiter (returned, to
    /// resume with nil so it connects), or is freed.
    mutating func release() -> Waiter? {
        if let waiter = waiters.removeFirst() { return waiter }
        open -= 1
        return nil
    }

    /// Every idle connection, taken out to be closed.
    mutating func takeIdle() -> [any Channel] {
        defer {
            open -= idle.count
            idle.removeAll()
        }
        return idle.map(\.channel)
    }
}
