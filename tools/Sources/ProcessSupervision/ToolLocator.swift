import Foundation

/// Finds the servers the environment runs: PATH, then the project's tool virtualenv
/// (`.tools/venv/bin`, where `scripts/setup` puts nx-27017), then the sbin folders where Debian
/// puts dnsmasq.
public struct ToolLocator: Sendable {
    public var folders: [String]

    public init(environment: [String: String], projectRoot: String) {
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        folders =
            path.split(separator: ":").map(String.init)
            + [projectRoot + "/.tools/venv/bin", "/usr/local/sbin", "/usr/sbin", "/sbin"]
    }

    public func find(_ name: String) -> String? {
        folders.lazy.map { $0 + "/" + name }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}
