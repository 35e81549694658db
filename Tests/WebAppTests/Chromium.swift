import Foundation
import Synchronization
import TestSupport

/// Headless Debian chromium, driven from the command line: `--dump-dom` for the DOM after the
/// page (and any navigation it starts) has loaded, `--screenshot` for a PNG.
enum Chromium {
    /// Where the screenshots of a test run go: `.build/screenshots/` (not committed).
    static let screenshotFolder: String = {
        let folder = TestPaths.packageRoot + "/.build/screenshots"
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }()

    static func dumpDOM(_ url: String) async throws -> String {
        try await run(["--dump-dom", url])
    }

    /// Saves a screenshot of `url` to `.build/screenshots/<name>.png` and returns the path.
    static func screenshot(_ url: String, name: String, width: Int = 900, height: Int = 700) async throws -> String {
        let path = screenshotFolder + "/\(name).png"
        try? FileManager.default.removeItem(atPath: path)
        _ = try await run(["--screenshot=\(path)", "--window-size=\(width),\(height)", "--hide-scrollbars", url])
        guard FileManager.default.fileExists(atPath: path) else { throw TestSupportError("chromium wrote no screenshot for \(url)") }
        return path
    }

    /// Runs chromium with a private profile (parallel runs do not share one) and returns stdout.
    private static func run(_ arguments: [String]) async throws -> String {
        let profile = TestPaths.temporaryDirectory(prefix: "chromium")
        defer { try? FileManager.default.removeItem(atPath: profile) }
        let timeout: Duration = .seconds(60)
        let result = try await CommandResult.execute(
            try TestPaths.tool("chromium"),
            [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                "--user-data-dir=\(profile)", "--virtual-time-budget=5000",
            ] + arguments,
            timeout: timeout
        )
        if result.timedOut {
            throw TestSupportError("chromium did not finish within \(timeout): \(arguments)")
        }
        return result.standardOutput
    }
}
