import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// The one thread every child is spawned from: the kernel sends a child its parent-death signal
/// when the *thread* that spawned it ends, and Dispatch retires idle worker threads (where async
/// code runs) — a child spawned there would get SIGTERM some seconds later for no reason. This
/// thread lives as long as the launcher. It also makes spawns one at a time, so a pipe made for
/// one child is marked close-on-exec before the next child could inherit it.
public final class SpawnThread: @unchecked Sendable {
    // @unchecked: `jobs` is only touched while `condition` is locked.
    public static let shared = SpawnThread()

    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []

    private init() {
        let thread = Thread { [self] in loop() }
        thread.name = "localenv-spawn"
        thread.start()
    }

    /// Runs `body` on the spawn thread and returns its result; the caller waits (a spawn is quick).
    public func run<T: Sendable>(_ body: @escaping @Sendable () -> T) -> T {
        let result = Locked<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        condition.withLock {
            jobs.append {
                let value = body()
                result.withLock { $0 = value }
                done.signal()
            }
            condition.signal()
        }
        done.wait()
        guard let value = result.withLock({ $0 }) else { preconditionFailure("spawn job finished without a result") }
        return value
    }

    private func loop() {
        while true {
            let job: @Sendable () -> Void = condition.withLock {
                while jobs.isEmpty { condition.wait() }
                return jobs.removeFirst()
            }
            job()
        }
    }
}
