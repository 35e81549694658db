import Foundation
import TestSupport

/// The repository's shipping files, and the tools that render them (kubectl kustomize, build.sh).
enum Repository {
    static let root = TestPaths.packageRoot

    static func text(_ path: String) throws -> String {
        do {
            return try String(contentsOfFile: root + "/" + path, encoding: .utf8)
        } catch {
            throw TestSupportError("cannot read \(path): \(error)")
        }
    }

    static func exists(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: root + "/" + path)
    }

    /// `kubectl kustomize deployment/overlays/<overlay>`: what the cluster would be given.
    static func kustomize(overlay: String) async throws -> String {
        try await run(TestPaths.tool("kubectl"), ["kustomize", "deployment/overlays/\(overlay)"])
    }

    /// `docker/build.sh --list`: `<default registry>/<name>` of every image the script builds.
    /// REGISTRY is left out of the environment so the script's own default shows.
    static func imagesBuildScriptBuilds() async throws -> [String] {
        var environment = ProcessInfo.processInfo.environment
        environment["REGISTRY"] = nil
        let output = try await run("/bin/bash", ["docker/build.sh", "--list"], environment: environment)
        return output.split(separator: "\n").map(String.init)
    }

    /// Runs a command in the package root and returns its standard output; throws with its
    /// standard error when it exits non-zero. Output goes through files, not pipes, so a large
    /// rendering cannot fill a pipe and stall the command.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) async throws -> String {
        let result = try await CommandResult.execute(executable, arguments, environment: environment, workingDirectory: root)
        guard result.status == 0 else {
            let command = ([executable] + arguments).joined(separator: " ")
            throw TestSupportError("`\(command)` exited with \(result.status):\n\(result.standardError)")
        }
        return result.standardOutput
    }
}
