import Foundation
import ProcessSupervision
import TestSupport
import Testing

@testable import LocalEnvironment

#if canImport(Glibc)
import Glibc
#endif

/// inotify on a source tree: changes arrive as batches, bursts as one, excluded paths never.
@Suite struct SourceWatcherTests {
    /// Collects the batches a watcher reports.
    final class Batches: Sendable {
        let received = Locked<[[String]]>([])
        var all: [[String]] { received.withLock { $0 } }
    }

    func watch(_ root: String, excludes: [String] = []) throws -> (SourceWatcher, Batches) {
        let batches = Batches()
        let watcher = try SourceWatcher.start(folder: root + "/Sources", root: root, excludes: excludes) { paths in
            batches.received.withLock { $0.append(paths) }
        }
        return (watcher, batches)
    }

    func tree() throws -> String {
        let root = TestPaths.temporaryDirectory(prefix: "watch")
        try FileManager.default.createDirectory(atPath: root + "/Sources/A/Deep", withIntermediateDirectories: true)
        return root
    }

    @Test func aBurstOfSavesIsOneBatch() async throws {
        let root = try tree()
        let (watcher, batches) = try watch(root)
        defer { watcher.stop() }
        // Saved from a thread of its own, as an editor saves: the 10 ms gaps must not grow while
        // this task waits for a turn on the cooperative pool, which other tests keep busy.
        try await blocking {
            Result {
                for index in 0..<20 {
                    try "let x = \(index)".write(toFile: root + "/Sources/A/Deep/File.swift", atomically: false, encoding: .utf8)
                    usleep(10_000)
                }
                try "// b".write(toFile: root + "/Sources/A/B.swift", atomically: true, encoding: .utf8)  // a rename, as editors save
            }
        }.get()
        #expect(await eventually(timeout: .seconds(5)) { !batches.all.isEmpty })
        try await Task.sleep(for: .milliseconds(600))
        #expect(batches.all == [[root + "/Sources/A/B.swift", root + "/Sources/A/Deep/File.swift"]])
    }

    @Test func newFoldersAreWatchedAndExcludedPathsIgnored() async throws {
        let root = try tree()
        let (watcher, batches) = try watch(root, excludes: ["**/*.log", "**/.build/**"])
        defer { watcher.stop() }
        try FileManager.default.createDirectory(atPath: root + "/Sources/New", withIntermediateDirectories: true)
        try await Task.sleep(for: .milliseconds(400))
        try "x".write(toFile: root + "/Sources/A/run.log", atomically: false, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: root + "/Sources/A/.build", withIntermediateDirectories: true)
        try "x".write(toFile: root + "/Sources/A/.build/out.o", atomically: false, encoding: .utf8)
        try "x".write(toFile: root + "/Sources/A/.File.swift.swp", atomically: false, encoding: .utf8)
        try "// new".write(toFile: root + "/Sources/New/File.swift", atomically: false, encoding: .utf8)
        #expect(await eventually(timeout: .seconds(5)) { batches.all.joined().contains(root + "/Sources/New/File.swift") })
        try await Task.sleep(for: .milliseconds(400))
        let seen = Set(batches.all.joined())
        #expect(seen.isSubset(of: [root + "/Sources/New", root + "/Sources/New/File.swift"]), "\(seen)")
    }

    @Test func touchingAFileCounts() async throws {
        let root = try tree()
        let file = root + "/Sources/A/Old.swift"
        try "// old".write(toFile: file, atomically: false, encoding: .utf8)
        let (watcher, batches) = try watch(root)
        defer { watcher.stop() }
        #expect(utimes(file, nil) == 0)
        #expect(await eventually(timeout: .seconds(5)) { batches.all == [[file]] })
    }
}
