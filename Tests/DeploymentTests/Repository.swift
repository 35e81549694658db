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
    static func kustomize(overlay: String) throws -> String {
        try run(TestPaths.tool("kubectl"), ["kustomize", "deployment/overlays/\(overlay)"])
    }

    /// `docker/build.sh --list`: `<default registry>/<name>` of every image the script builds.
    /// REGISTRY is left out of the environment so the script's own default shows.
    static func imagesBuildScriptBuilds() throws -> [String] {
        var environment = ProcessInfo.processInfo.environment
        environment["REGISTRY"] = nil
        let output = try run("/bin/bash", ["docker/build.sh", "--list"], environment: environment)
        return output.split(separator: "\n").map(String.init)
    }

    /// Runs a command in the package root and returns its standard output; throws with its
    /// standard error when it exits non-zero. Output goes through files, not pipes, so a large
    /// rendering cannot fill a pipe and stall the command.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil) throws -> String {
        let folder = TestPaths.temporaryDirectory(prefix: "deployment-run")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let outPath = folder + "/stdout", errPath = folder + "/stderr"
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: root)
        if let environment { process.environment = environment }
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardInput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        let output = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        guard process.terminationStatus == 0 else {
            let errors = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            let command = ([executable] + arguments).joined(separator: " ")
            throw TestSupportError("`\(command)` exited with \(process.terminationStatus):\n\(errors)")
        }
        return output
    }
}
