import ArgumentParser
import ClusterRehearsal
import Foundation
import ProcessSupervision

/// `rehearse`: runs an overlay's rendered manifests as pods in network namespaces (README,
/// "Cluster rehearsal"); the other subcommands talk to the running `rehearse up`.
@main
struct Rehearse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rehearse the Kubernetes deployment: pods in network namespaces, cluster DNS, Service proxying.",
        subcommands: [Up.self, Get.self, Scale.self, Delete.self, Kill.self, Rollout.self, Run.self, Logs.self, Down.self]
    )
}

struct SocketOption: ParsableArguments {
    @Option(help: "The control socket of the running rehearsal.")
    var socket = "/run/mr-rehearsal.sock"

    /// Sends one request, prints the answer, exits with its status.
    func send(_ command: String, _ arguments: [String]) throws {
        let reply = try ControlClient.send(ControlRequest(command: command, arguments: arguments), path: socket)
        FileHandle.standardOutput.write(Data(reply.output.utf8))
        if reply.exitCode != 0 { throw ExitCode(reply.exitCode) }
    }
}

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Start the cluster in the foreground; Ctrl-C or SIGTERM removes everything.")

    @Option(help: "The kustomize overlay to render with kubectl.")
    var overlay = "deployment/overlays/local"
    @Option(name: .shortAndLong, help: "Rendered manifests instead of an overlay (- for standard input).")
    var file: String?
    @Option(help: "Folder of the built services.")
    var bin = ".build/release"
    @Option(help: "DNS files, logs and volumes (persistent volumes are kept here).")
    var state = ".build/rehearsal"
    @OptionGroup var control: SocketOption

    func run() async throws {
        // Starting removes an earlier run's leftovers, which would be a running rehearsal's pods.
        if (try? ControlClient.send(ControlRequest(command: "get-pods", arguments: []), path: control.socket)) != nil {
            throw ValidationError("a rehearsal is already running (\(control.socket)); stop it first")
        }
        let manifest = try await ClusterManifest.load(overlay: overlay, file: file)
        let options = ClusterOptions(manifest: manifest, binDirectory: absolute(bin), stateDirectory: absolute(state))
        let stop = AsyncStream<Int32>.makeStream()
        SignalWatcher.start { stop.continuation.yield($0) }
        let cluster = try await Cluster.start(options)
        let server = try ControlServer.start(path: control.socket) { await ControlCommands.handle($0, cluster: cluster) }
        Task {
            do {
                try await cluster.waitUntilSettled()
                say(await Announcement.text(cluster: cluster, socket: control.socket))
            } catch {
                say("rehearse: \(error)")
            }
        }
        for await signal in stop.stream {
            say("rehearse: \(signalName(signal)) received, removing the cluster")
            break
        }
        server.stop()
        await cluster.shutdown()
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}

struct Get: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the pods (get pods).")
    @Argument(help: "pods") var resource: String
    @OptionGroup var control: SocketOption
    func validate() throws { guard ["pods", "pod", "po"].contains(resource) else { throw ValidationError("only `get pods`") } }
    func run() throws { try control.send("get-pods", []) }
}

struct Scale: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Set a deployment's (or statefulset's) replica count: scale deployment/NAME N.")
    @Argument var target: String
    @Argument var replicas: Int
    @OptionGroup var control: SocketOption
    func run() throws { try control.send("scale", [target, "\(replicas)"]) }
}

struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Delete a pod: out of DNS and endpoints at once, preStop, SIGTERM, SIGKILL after the grace period.")
    @Argument(help: "pod") var resource: String
    @Argument var name: String
    @OptionGroup var control: SocketOption
    func run() throws { try control.send("delete-pod", [name]) }
}

struct Kill: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "SIGKILL a pod's container (it is restarted in place).")
    @Argument(help: "pod") var resource: String
    @Argument var name: String
    @OptionGroup var control: SocketOption
    func run() throws { try control.send("kill-pod", [name]) }
}

struct Rollout: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Rolling update of a deployment to the binaries in --bin: rollout deployment/NAME --bin DIR.")
    @Argument var target: String
    @Option(help: "Folder of the new binaries.") var bin: String
    @OptionGroup var control: SocketOption
    func run() throws {
        let folder = bin.hasPrefix("/") ? bin : FileManager.default.currentDirectoryPath + "/" + bin
        try control.send("rollout", [target, folder])
    }
}

struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run a Job to completion and print its log: run job/NAME.")
    @Argument var target: String
    @OptionGroup var control: SocketOption
    func run() throws { try control.send("run-job", [target]) }
}

struct Logs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A pod's output.")
    @Argument var pod: String
    @OptionGroup var control: SocketOption
    func run() throws { try control.send("logs", [pod]) }
}

struct Down: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Remove what a crashed rehearsal left: processes, namespaces, interfaces, nft table.")
    func run() async throws {
        let removed = await Cluster.removeLeftovers()
        print(removed.isEmpty ? "nothing to remove" : removed.map { "removed \($0)" }.joined(separator: "\n"))
    }
}

/// Unbuffered: the announcement must not wait in a buffer when stdout is a file or a pipe.
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
