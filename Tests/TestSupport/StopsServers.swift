import Testing

/// The trait giving each test (each case of a parameterized one) its own `ServerScope` and a
/// share of the machine (`MachineShare`): one slot, or all of them for a load test.
public struct StopsServers: TestTrait, SuiteTrait, TestScoping {
    let isLoadTest: Bool

    public var isRecursive: Bool { true }

    /// Each test case, once: a test marked `.loadTest` in a `.stopsServers` suite is scoped by
    /// its own trait only (holding one slot while asking for all would never be granted).
    public func scopeProvider(for test: Test, testCase: Test.Case?) -> StopsServers? {
        guard testCase != nil else { return nil }
        if !isLoadTest, test.traits.contains(where: { ($0 as? StopsServers)?.isLoadTest == true }) { return nil }
        return self
    }

    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        let share = MachineShare.shared
        let slots = isLoadTest ? share.width : 1
        await share.acquire(slots: slots)
        let scope = ServerScope()
        do {
            try await ServerScope.$current.withValue(scope) { try await function() }
        } catch {
            await scope.stopAll()
            await share.release(slots: slots)
            throw error
        }
        await scope.stopAll()
        await share.release(slots: slots)
    }
}

extension Trait where Self == StopsServers {
    /// Stops the servers each test starts when it ends (see `ServerScope`); a few such tests run
    /// at once (see `MachineShare`).
    public static var stopsServers: Self { StopsServers(isLoadTest: false) }

    /// The same, for a test that loads the machine or measures throughput: it runs with no other
    /// `.stopsServers` or `.loadTest` test beside it.
    public static var loadTest: Self { StopsServers(isLoadTest: true) }
}
