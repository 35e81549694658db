import ArgumentParser
import ClusterRehearsal
import ControlSocket
import Foundation
import ProcessSupervision

/// `rehearse`: runs an overlay's rendered manifests as pods in network namespaces (README,
/// "Cluster rehearsal"); the other subcommands talk to the running `rehearse up`.
@main
struct Rehearse: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Rehearse the Kubernetes deployment: pods in network namespaces, cluster DNS, Service proxying.",
        subcommands: [Up.self, Apply.self, Get.self, Scale.self, Delete.self, Kill.self, Rollout.self, Run.self, Logs.self, Down.self]
    )
}

struct SocketOption: ParsableArguments {
    @Option(help: "The control socket of the running rehearsal.")
    var socket = "/run/mr-rehearsal.sock"

    /// Sends one request, prints the answer, exits with its status.
    func send(_ command: String, _ arguments: [String]) throws {
        let reply = try RehearsalControl.send(ControlRequest(command: command, arguments: arguments), path: socket)
        FileHandle.standardOutput.write(Data(reply.output.utf8))
        if reply.exitCode != 0 { throw ExitCode(reply.exitCode) }
    }
}

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the cluster in the foreground; Ctrl-C or SIGTERM removes everything.",
        discussion: """
            Without manifests the cluster starts empty: deploy into it with deployment/deploy.sh --rehearsal \
            (or rehearse apply). Containers run from their images, pulled as a kubelet pulls them; with --bin \
            (the quick option) our services run from a build folder instead, and the manifests default to \
            deployment/overlays/local.
            """
    )

    @Option(help: "A kustomize overlay to render with kubectl and apply at start.")
    var overlay: String?
    @Option(name: .shortAndLong, help: "Rendered manifests to apply at start (- for standard input).")
    var file: String?
    @Option(help: "Run our services from this build folder instead of their images.")
    var bin: String?
    @Option(help: "DNS files, logs and volumes (persistent volumes are kept here).")
    var state = ".build/rehearsal"
    @OptionGroup var control: SocketOption

    func run() async throws {
        // Starting removes an earlier run's leftovers, which would be a running rehearsal's pods.
        if ControlClient.isAnswering(path: control.socket) {
            throw ValidationError("a rehearsal is already running (\(control.socket)); stop it first")
        }
        var manifest = ClusterManifest()
        if overlay != nil || file != nil || bin != nil {
            manifest = try await ClusterManifest.load(overlay: overlay, file: file)
        }
        let runtime = bin.map { ContainerRuntime.buildFolder(absolute($0)) } ?? .images
        let options = ClusterOptions(manifest: manifest, runtime: runtime, stateDirectory: absolute(state))
        let stop = AsyncStream<Int32>.makeStream()
        SignalWatcher.start { stop.continuation.yield($0) }
        let cluster = try await Cluster.start(options)
        let server = try await RehearsalControl.start(path: control.socket, cluster: cluster)
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
        await server.stop()
        await cluster.shutdown()
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}

struct Apply: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Apply rendered manifests (kubectl apply -f) and wait for the rollouts (kubectl rollout status).",
        discussion: "Fails, naming the pod, when a new pod cannot pull its image or keeps crashing."
    )
    @Option(name: .shortAndLong, help: "Rendered manifests (- for standard input).") var file: String
    @OptionGroup var control: SocketOption
    func run() throws {
        let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
        try control.send("apply", [String(decoding: data, as: UTF8.self)])
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
    static let configuration = CommandConfiguration(
        abstract: "Set a deployment's (or statefulset's) replica count: scale deployment/NAME N.")
    @Argument var target: String
    @Argument var replicas: Int
    @OptionGroup var control: SocketOption
    func run() throws { try control.send("scale", [target, "\(replicas)"]) }
}

struct Delete: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Delete a pod: out of DNS and endpoints at once, preStop, SIGTERM, SIGKILL after the grace period.")
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
    static let configuration = CommandConfiguration(
        abstract: "Replace a deployment's pods by a rolling update and wait for it: rollout restart deployment/NAME.",
        discussion: "With --bin, the new pods run the binaries the build folder holds now."
    )
    @Argument(help: "restart") var action: String
    @Argument var target: String
    @OptionGroup var control: SocketOption
    func validate() throws { guard action == "restart" else { throw ValidationError("only `rollout restart`") } }
    func run() throws { try control.send("rollout-restart", [target]) }
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
    static let configuration = CommandConfiguration(
        abstract: "Remove what a crashed rehearsal left: processes, namespaces, interfaces, nft table.")
    func run() async throws {
        let removed = await Cluster.removeLeftovers()
        print(removed.isEmpty ? "nothing to remove" : removed.map { "removed \($0)" }.joined(separator: "\n"))
    }
}

/// Unbuffered: the announcement must not wait in a buffer when stdout is a file or a pipe.
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
