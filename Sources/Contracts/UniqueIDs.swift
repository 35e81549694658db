import Synchronization

/// Unique ids for events and audit records: a random 64-bit prefix drawn once per process, then
/// a counter (`3f9c…e1-1a`). The prefix keeps ids of different processes (and of one webapp
/// before and after a restart) apart; the counter makes ids within a process distinct without
/// drawing randomness or formatting a UUID per page view.
public final class UniqueIDs: Sendable {
    private let prefix: String
    private let counter = Atomic<UInt64>(0)

    public init() {
        let random = UInt64.random(in: .min ... .max)
        let hex = String(random, radix: 16)
        prefix = String(repeating: "0", count: 16 - hex.count) + hex + "-"
    }

    public func next() -> String {
        let number = counter.add(1, ordering: .relaxed).newValue
        return prefix + String(number, radix: 36)
    }
}
