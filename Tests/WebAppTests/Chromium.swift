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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try TestPaths.tool("chromium"))
        process.arguments = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--user-data-dir=\(profile)", "--virtual-time-budget=5000",
        ] + arguments
        let output = Pipe()
        let errors = FileHandle(forWritingAtPath: "/dev/null")
        process.standardOutput = output
        process.standardError = errors
        try process.run()
        // Read while it runs, so a large DOM cannot fill the pipe and stall chromium.
        let reader = Task.detached { output.fileHandleForReading.readDataToEndOfFile() }
        let deadline = ContinuousClock.now + .seconds(60)
        while process.isRunning {
            if ContinuousClock.now > deadline {
                process.terminate()
                throw TestSupportError("chromium did not finish within 60 s: \(arguments)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return String(decoding: await reader.value, as: UTF8.self)
    }
}
