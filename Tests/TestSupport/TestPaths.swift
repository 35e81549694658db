import Foundation

/// Where things are: the package root, built executables, and the tools tests start.
public enum TestPaths {
    /// The package root, found from this file's path (Tests/TestSupport/TestPaths.swift).
    public static let packageRoot: String = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().path
    }()

    /// A fresh directory under the system temporary directory.
    public static func temporaryDirectory(prefix: String) -> String {
        let path = NSTemporaryDirectory() + "micro-\(prefix)-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// A tool the tests need: PATH, then the project's tool virtualenv (`.tools/venv/bin`, made by
    /// `scripts/setup`), then the sbin folders where Debian puts servers such as dnsmasq.
    public static func tool(_ name: String) throws -> String {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        let folders =
            path.split(separator: ":").map(String.init)
            + [packageRoot + "/.tools/venv/bin", "/usr/sbin", "/sbin", "/usr/local/sbin"]
        for folder in folders where FileManager.default.isExecutableFile(atPath: folder + "/" + name) {
            return folder + "/" + name
        }
        throw TestSupportError("\(name) not found on PATH or in .tools/venv/bin: run scripts/setup")
    }

    /// An executable this package builds, from the same build folder as the running tests.
    public static func builtExecutable(_ name: String) throws -> String {
        let testBundle = Bundle.main.bundleURL.path  // …/.build/<triple>/debug
        for folder in [testBundle, URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path] {
            let candidate = folder + "/" + name
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw TestSupportError("\(name) is not built next to the tests (\(testBundle)): run swift build first")
    }
}
