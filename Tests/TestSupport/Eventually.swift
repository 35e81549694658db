/// Waits until `condition` holds, polling every `poll`; false if it did not within `timeout`.
public func eventually(
    timeout: Duration = .seconds(5), poll: Duration = .milliseconds(20), _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: poll)
    }
    return try await condition()
}
