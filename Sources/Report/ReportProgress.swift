#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// How far a report has got, so that when its deadline passes it can say what did not answer,
/// and stop.
///
/// The deadline is kept by a watchdog rather than by cancelling the work: DNS and hiredis calls
/// block a thread of their own, which cancellation cannot reach, while exiting the process always
/// ends them.
final class ReportProgress: Sendable {
    enum Step: Sendable, Equatable {
        case resolving, connecting, sending, waiting, finished
    }

    private let step = Mutex(Step.resolving)
    private let timeout: Duration

    init(timeout: Duration) {
        self.timeout = timeout
    }

    func enter(_ next: Step) {
        step.withLock { if $0 != .finished { $0 = next } }
    }

    /// Marks the report finished. When the watchdog got there first it is exiting with its own
    /// status: this then waits for that exit rather than letting the report end with status 0.
    func finish() async {
        let first = step.withLock { current in
            defer { current = .finished }
            return current != .finished
        }
        if !first { try? await Task.sleep(for: .seconds(10)) }
    }

    /// Why nothing came by the deadline, given the step the report was in.
    static func failure(at step: Step, timeout: Duration) -> ReportFailure? {
        let within = "within \(SummaryRequest.seconds(timeout)) s"
        return switch step {
        case .resolving: .discovery("DNS did not answer \(within)")
        case .connecting: .redisUnreachable("no connection \(within)")
        // The request is queued, but Redis itself did not answer: not the eventservice's fault.
        case .sending, .waiting: .redisUnreachable("Redis did not answer \(within)")
        case .finished: nil
        }
    }

    /// At `stop`, unless the report finished, prints why on stderr and exits with its status.
    func watch(until stop: ContinuousClock.Instant) {
        Task.detached { [self] in
            try? await Task.sleep(until: stop, clock: .continuous)
            let failure = step.withLock { current -> ReportFailure? in
                defer { current = .finished }
                return Self.failure(at: current, timeout: timeout)
            }
            guard let failure else { return }
            ReportFailure.printLine(failure)
            exit(failure.exitCode)
        }
    }
}
