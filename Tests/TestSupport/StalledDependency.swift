import Foundation
import NIOHTTP1
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A dependency frozen with SIGSTOP: its port still accepts connections and nothing answers,
/// the failure a timeout must catch (a refused connection fails fast by itself).
public enum StalledDependency {
    /// With `dependency` frozen, the service's `/readyz` says 503 three times in a row, each
    /// within `limit` (its readiness check's own timeout, with room); then it resumes.
    public static func expectUnreadyInTime(
        _ service: ServerProcess, whileStalled dependency: ServerProcess, limit: Duration = .milliseconds(2200),
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        dependency.signal(SIGSTOP)
        defer { dependency.signal(SIGCONT) }
        for _ in 0..<3 {
            let started = ContinuousClock.now
            let answer = try await TestHTTPClient(port: service.metricsPort).get("/readyz")
            let elapsed = ContinuousClock.now - started
            #expect(answer.status.code == 503, "\(answer.text)", sourceLocation: sourceLocation)
            #expect(elapsed <= limit, "/readyz took \(elapsed) with \(dependency.name) stalled", sourceLocation: sourceLocation)
            print("\(service.name) /readyz with \(dependency.name) stalled: \(answer.status.code) in \(elapsed)")
        }
    }
}
