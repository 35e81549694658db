import ControlSocket
import Foundation

/// The operations `rehearse` forwards to a running cluster, by name, as `kubectl` spells them.
public enum ControlCommands {
    public static func handle(_ request: ControlRequest, cluster: Cluster) async -> ControlReply {
        do {
            return try await run(request, cluster: cluster)
        } catch {
            return ControlReply(output: "error: \(error)\n", exitCode: 1)
        }
    }

    private static func run(_ request: ControlRequest, cluster: Cluster) async throws -> ControlReply {
        let arguments = request.arguments
        switch (request.command, arguments.count) {
        case ("get-pods", 0):
            return ControlReply(output: table(await cluster.podList()), exitCode: 0)
        case ("scale", 2):
            guard let replicas = Int(arguments[1]) else { throw RehearsalError("replicas must be a number") }
            try await cluster.scale(try target(arguments[0], kinds: ["deployment", "statefulset"]), replicas: replicas)
            return ControlReply(output: "\(arguments[0]) scaled to \(replicas)\n", exitCode: 0)
        case ("delete-pod", 1):
            try await cluster.deletePod(arguments[0])
            return ControlReply(output: "pod \(arguments[0]) deleted (terminating)\n", exitCode: 0)
        case ("kill-pod", 1):
            try await cluster.killPod(arguments[0])
            return ControlReply(output: "pod \(arguments[0]): container killed (SIGKILL)\n", exitCode: 0)
        case ("apply", 1):
            let lines = try await cluster.apply(try ClusterManifest(yaml: arguments[0]))
            return ControlReply(output: lines.joined(separator: "\n") + "\n", exitCode: 0)
        case ("rollout-restart", 1):
            try await cluster.restart(try target(arguments[0], kinds: ["deployment", "statefulset"]))
            return ControlReply(output: "\(arguments[0]) restarted and rolled out\n", exitCode: 0)
        case ("run-job", 1):
            let result = try await cluster.runJob(try target(arguments[0], kinds: ["job"]))
            let summary = "job \(arguments[0]): pod \(result.pod) \(result.succeeded ? "succeeded" : "failed") (\(result.exitStatus))\n"
            return ControlReply(output: result.log + summary, exitCode: result.succeeded ? 0 : 1)
        case ("logs", 1):
            return ControlReply(output: try await cluster.logs(pod: arguments[0]), exitCode: 0)
        default:
            throw RehearsalError("unknown request \(request.command) with \(arguments.count) arguments")
        }
    }

    /// `deployment/adderservice` → `adderservice` (the kind must be one of `kinds`; a bare name is taken as is).
    static func target(_ text: String, kinds: [String]) throws -> String {
        let parts = text.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return text }
        guard kinds.contains(parts[0].lowercased()) else {
            throw RehearsalError("\(text): expected \(kinds.joined(separator: " or "))/NAME")
        }
        return parts[1]
    }

    static func table(_ pods: [PodInfo]) -> String {
        let rows =
            [["NAME", "READY", "STATUS", "RESTARTS", "IP"]]
            + pods.map {
                [$0.name, $0.ready ? "1/1" : "0/1", $0.status, "\($0.restarts)", $0.address]
            }
        let widths = (0..<5).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { $1.padding(toLength: widths[$0] + 3, withPad: " ", startingAt: 0) }.joined()
                .trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }
}
