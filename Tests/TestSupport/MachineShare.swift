import Foundation

/// The machine's cores, shared by the tests that start servers. At most `width` of them run at
/// once, and a load test takes every slot: beside it, no other such test runs. Started all at
/// once (Swift Testing starts every test together), two cores would spend the first seconds
/// starting dozens of servers, and every latency bound measured meanwhile would fail; a load
/// test (thousands of requests, a stall under browsing) measures throughput and needs the cores.
/// Slots are granted in the order asked, so a load test is not starved by the others.
actor MachineShare {
    static let shared = MachineShare(width: 2 * ProcessInfo.processInfo.activeProcessorCount)

    let width: Int
    private var taken = 0
    private var waiting: [(slots: Int, continuation: CheckedContinuation<Void, Never>)] = []

    init(width: Int) { self.width = width }

    /// Waits until `slots` (1, or `width` for a load test) are free and takes them.
    func acquire(slots: Int) async {
        if waiting.isEmpty, taken + slots <= width {
            taken += slots
            return
        }
        await withCheckedContinuation { waiting.append((slots, $0)) }
    }

    func release(slots: Int) {
        taken -= slots
        while let next = waiting.first, taken + next.slots <= width {
            waiting.removeFirst()
            taken += next.slots
            next.continuation.resume()
        }
    }
}
