import ServiceRuntime
import Testing

@Suite struct BackoffTests {
    @Test func doublesFromInitialUpToTheMaximum() {
        var backoff = Backoff(initial: .milliseconds(50), maximum: .milliseconds(300))
        let delays = (0..<6).map { _ in backoff.next() }
        #expect(delays == [50, 100, 200, 300, 300, 300].map { Duration.milliseconds($0) })
    }

    @Test func resetStartsAgainFromInitial() {
        var backoff = Backoff(initial: .seconds(1), maximum: .seconds(8))
        _ = (backoff.next(), backoff.next(), backoff.next())
        backoff.reset()
        #expect(backoff.next() == .seconds(1))
    }

    @Test func settingsCopiesStepIndependently() {
        let shape = Backoff(initial: .milliseconds(10), maximum: .seconds(1))
        var first = shape
        _ = (first.next(), first.next())
        var second = shape
        #expect(second.next() == .milliseconds(10))
        #expect(first.next() == .milliseconds(40))
    }
}
