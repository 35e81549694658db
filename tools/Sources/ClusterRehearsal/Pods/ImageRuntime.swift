import Foundation
import ProcessSupervision

/// The container runtime of the rehearsal's kubelet: each container's image pulled from its
/// registry and run by podman (with runc) inside the pod's network namespace, with the security
/// context, environment, volumes and memory limit of the manifest — what a kubelet asks of
/// containerd or CRI-O. podman does the work; this only translates the pod spec into its options.
enum ImageRuntime {
    /// Every container the rehearsal starts carries this label, with the plan's prefix as value,
    /// so the leftovers of a crashed run can be found (`rehearse down`).
    static let ownerLabel = "io.micro.rehearsal"

    /// Why a pull failed: the reason `get pods` shows (ErrImagePull, ErrImageNeverPull) and podman's message.
    struct PullFailure: Error, Sendable {
        let reason: String
        let message: String
    }

    /// The kubelet's pull: Always pulls on every start, IfNotPresent when the node does not hold the
    /// image, Never only uses what the node holds.
    static func pull(_ image: String, policy: Container.PullPolicy) async throws(PullFailure) {
        if policy != .always, (try? await Command.run(["podman", "image", "exists", image]))?.succeeded == true { return }
        if policy == .never {
            throw PullFailure(reason: "ErrImageNeverPull", message: "\(image) is not on the node and imagePullPolicy is Never")
        }
        let result: CommandOutput
        do {
            result = try await Command.run(["podman", "pull", "--quiet", image], timeout: .seconds(120))
        } catch {
            throw PullFailure(reason: "ErrImagePull", message: error.description)
        }
        guard result.succeeded else {
            // podman's retries print warnings first; its last line is the error.
            let last = result.output.split(separator: "\n").last.map(String.init) ?? "\(result.status)"
            throw PullFailure(reason: "ErrImagePull", message: last.hasPrefix("Error: ") ? String(last.dropFirst(7)) : last)
        }
    }

    /// One container to run: the pod it belongs to and what the kubelet prepared for it.
    struct Launch {
        /// The rehearsal's prefix (`mr-`), which also begins the container's name.
        var owner: String
        var pod: String
        var address: String
        /// The pod's network namespace (`ip netns` name).
        var namespace: String
        /// NAME=value lines, mode 0600: values stay off podman's command line.
        var environmentFile: String
        var mounts: [(path: String, folder: String)]
        var security: SecurityContext
        var container: Container
        /// Mount paths mounted read-only (`:ro`).
        var readOnlyPaths: Set<String> = []

        /// The podman container's name, unique on the node.
        var name: String { owner + pod }
        var resolvConf: String { PodNetwork.resolvConf(namespace) }

        /// `podman run` in the foreground: the container's output is the process's own
        /// (`--log-driver passthrough`), its exit status podman's, and SIGTERM to podman reaches
        /// the container (signal proxying). `--rm`: the next start makes a fresh container.
        var arguments: [String] {
            var arguments = [
                "podman", "run", "--rm", "--replace", "--pull", "never", "--log-driver", "passthrough",
                "--name", name, "--label", "\(ImageRuntime.ownerLabel)=\(owner)", "--label", "io.kubernetes.pod.name=\(pod)",
                "--network", "ns:/run/netns/\(namespace)", "--hostname", pod, "--add-host", "\(pod):\(address)",
                "--volume", "\(resolvConf):/etc/resolv.conf:ro", "--env-file", environmentFile,
            ]
            arguments += securityOptions
            if let bytes = container.memoryLimit {
                // No swap beyond the limit, as the kubelet sets it.
                arguments += ["--memory", "\(bytes)", "--memory-swap", "\(bytes)"]
            }
            for mount in mounts {
                arguments += ["--volume", "\(mount.folder):\(mount.path)" + (readOnlyPaths.contains(mount.path) ? ":ro" : "")]
            }
            if !container.command.isEmpty, let json = try? JSONEncoder().encode(container.command) {
                arguments += ["--entrypoint", String(decoding: json, as: UTF8.self)]
            }
            return arguments + [container.image] + container.args
        }

        private var securityOptions: [String] {
            var options: [String] = []
            if let uid = security.runAsUser { options += ["--user", security.runAsGroup.map { "\(uid):\($0)" } ?? "\(uid)"] }
            if let group = security.fsGroup { options += ["--group-add", "\(group)"] }
            // Kubernetes gives no tmpfs on /tmp, /run, /var/tmp to a read-only root: only the volumes.
            if security.readOnlyRootFilesystem { options += ["--read-only", "--read-only-tmpfs=false"] }
            for capability in security.capabilitiesDrop { options += ["--cap-drop", capability] }
            for capability in security.capabilitiesAdd { options += ["--cap-add", capability] }
            if !security.allowPrivilegeEscalation { options += ["--security-opt", "no-new-privileges"] }
            // RuntimeDefault is podman's default profile; unset is Unconfined, as in Kubernetes.
            if security.seccompProfile != "RuntimeDefault" { options += ["--security-opt", "seccomp=unconfined"] }
            return options
        }
    }

    /// What runs a command inside the container, as its user (an exec probe): `podman exec`.
    static func exec(_ name: String) -> [String] { ["podman", "exec", name] }

    /// SIGKILL, which podman's signal proxy cannot pass on, sent to the container through podman.
    static func kill(_ name: String) async -> Bool {
        (try? await Command.run(["podman", "kill", "--signal", "KILL", name]))?.succeeded ?? false
    }

    /// The containers a run with this prefix left (its podman clients killed with it): removed.
    static func removeLeftovers(owner: String) async -> [String] {
        guard Command.tools.find("podman") != nil else { return [] }
        let listed = try? await Command.run(["podman", "ps", "--all", "--filter", "label=\(ownerLabel)=\(owner)", "--format", "{{.Names}}"])
        let names = (listed?.output ?? "").split(separator: "\n").map(String.init)
        guard !names.isEmpty else { return [] }
        _ = try? await Command.run(["podman", "rm", "--force", "--time", "0"] + names, timeout: .seconds(60))
        return names.map { "container \($0)" }
    }
}
