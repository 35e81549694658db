import ControlSocket
import Discovery
import Foundation
import LocalEnvironment
import TestSupport

#if canImport(Glibc)
import Glibc
#endif

/// Free ports for the entries of fuge/fuge.yml: each entry's first port, and each service's admin
/// port (`metrics`, the service table's), with the `--port` arguments that give them.
struct FreePorts {
    let ports: [String: Int]
    let metrics: [String: Int]

    init(_ entries: [String]) {
        ports = Dictionary(uniqueKeysWithValues: entries.map { ($0, Ports.free()) })
        let admin = entries.filter { entry in MicroService.all.contains { $0.name == entry && $0.metricsPort != nil } }
        metrics = Dictionary(uniqueKeysWithValues: admin.map { ($0, Ports.free()) })
    }

    var arguments: [String] {
        ports.flatMap { ["--port", "\($0.key)=\($0.value)"] } + metrics.flatMap { ["--port", "\($0.key).metrics=\($0.value)"] }
    }
}

/// The built `localenv` run as a person would, on free ports so it never meets a developer's
/// running system or another test. Its output (stdout and stderr) is in `log()`.
final class LauncherRun: Sendable {
    let process: ServerProcess
    let dnsPort: Int

    /// - Parameter arguments: besides `--dns-port` and `--no-color`, which are always given.
    init(arguments: [String], dnsPort: Int = Ports.free()) async throws {
        self.dnsPort = dnsPort
        process = try await ServerProcess(
            name: "localenv", executable: try TestPaths.builtExecutable("localenv"),
            arguments: ["--dns-port", "\(dnsPort)", "--no-color"] + arguments, port: dnsPort,
            environment: ProcessInfo.processInfo.environment, waitForPort: false
        )
    }

    func log() -> String { process.log() }

    /// Waits until the output contains `text`; false on timeout or when the launcher exited first.
    func waitFor(_ text: String, timeout: Duration = .seconds(60)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if log().contains(text) { return true }
            if !process.isRunning { return log().contains(text) }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    /// Every `started <name> (pid <n>)` the launcher printed, in order.
    func startedPIDs() -> [(name: String, pid: Int32)] {
        log().split(separator: "\n").compactMap { line in
            guard let range = line.range(of: "started ") else { return nil }
            let words = line[range.upperBound...].split(separator: " ")
            guard words.count >= 3, words[1] == "(pid", let pid = Int32(words[2].prefix(while: \.isNumber)) else { return nil }
            return (String(words[0]), pid)
        }
    }

    func terminate(timeout: Duration = .seconds(30)) async -> Int32? {
        process.signal(SIGTERM)
        return await process.waitForExit(timeout: timeout)
    }
}

/// A temporary project: `fuge/fuge.yml` with the given text and scripts in `bin/`.
struct ScratchProject {
    let root = TestPaths.temporaryDirectory(prefix: "localenv")
    var fugePath: String { root + "/fuge/fuge.yml" }
    var state: String { root + "/state" }

    init(fuge: String, scripts: [String: String] = [:]) throws {
        try FileManager.default.createDirectory(atPath: root + "/fuge", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
        try fuge.write(toFile: fugePath, atomically: true, encoding: .utf8)
        for (name, body) in scripts {
            let path = root + "/bin/" + name
            try ("#!/bin/sh\n" + body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
            chmod(path, 0o755)
        }
    }

    /// A fuge.yml in the seeds' format with DNS on and these entries (`name: ... lines`).
    static func fuge(_ entries: String) -> String {
        """
        fuge_global:
          dns_enabled: true
          dns_host: 127.0.0.1
          dns_port: 53053
          dns_namespace: micro
          dns_suffix: svc.cluster.local
          tail: true
          monitor: true
        \(entries)
        """
    }
}

/// True once `/proc/<pid>` is gone (or a zombie nobody waits for), waiting up to `timeout`.
func processEnds(_ pid: Int32, timeout: Duration = .seconds(10)) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return true }
        if status.contains("State:\tZ") { return true }
        try? await Task.sleep(for: .milliseconds(50))
    }
    return false
}

/// `dig @127.0.0.1 -p <port> +short <type> <name>`, one answer per element.
func dig(_ type: String, _ name: String, port: Int) async throws -> [String] {
    let result = try await CommandResult.execute(
        try TestPaths.tool("dig"), ["@127.0.0.1", "-p", "\(port)", "+short", "+time=2", "+tries=2", type, name]
    )
    return result.standardOutput.split(separator: "\n").map(String.init)
}

/// A request to the running launcher's control socket (`stop redis`: command, then arguments);
/// the socket is read on a thread of its own (`blocking`), not on the cooperative pool, since the
/// launcher may take a while to answer.
func control(_ request: String, state: String) async throws -> ControlReply {
    let words = request.split(separator: " ").map(String.init)
    let message = ControlRequest(command: words.first ?? "", arguments: Array(words.dropFirst()))
    return try await blocking { Result { try LocalControl.send(message, stateDirectory: state) } }.get()
}
