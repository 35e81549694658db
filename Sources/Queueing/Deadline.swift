/// A wait that ended because its deadline passed.
public struct DeadlineExceeded: Error, Equatable, CustomStringConvertible {
    public init() {}
    public var description: String { "deadline exceeded" }
}

/// Runs `operation`, cancelling it when `deadline` passes on `clock`. The operation's own outcome
/// always decides: a value that arrives as the deadline passes is returned, never dropped, and
/// only an operation that ends by throwing after the deadline gives `DeadlineExceeded` (a
/// `CancellationError` when the caller itself was cancelled). `operation` must end promptly when
/// cancelled; a deadline already past cancels it before it starts waiting.
public func withDeadline<Value: Sendable, C: Clock>(
    _ deadline: C.Instant, clock: C, operation: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    let outcome = await withTaskGroup(of: DeadlineRace<Value>.self) { group -> Result<Value, any Error> in
        group.addTask {
            do { return .finished(.success(try await operation())) } catch { return .finished(.failure(error)) }
        }
        group.addTask {
            do {
                try await clock.sleep(until: deadline, tolerance: nil)
                return .deadlinePassed
            } catch {
                return .timerStopped
            }
        }
        var deadlinePassed = false
        while let race = await group.next() {
            switch race {
            case .finished(let result):
                group.cancelAll()
                if deadlinePassed, !Task.isCancelled, case .failure = result { return .failure(DeadlineExceeded()) }
                return result
            case .deadlinePassed:
                deadlinePassed = true
                group.cancelAll()
            case .timerStopped:
                break
            }
        }
        preconditionFailure("the operation's task always finishes")
    }
    return try outcome.get()
}

private enum DeadlineRace<Value: Sendable>: Sendable {
    case finished(Result<Value, any Error>)
    case deadlinePassed
    case timerStopped
}
