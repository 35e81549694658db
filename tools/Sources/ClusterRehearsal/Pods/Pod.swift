import Foundation
import ProcessSupervision

/// A pod as the cluster keeps it. One container per pod: micro's manifests have no sidecars.
struct Pod: Sendable {
    enum Phase: String, Sendable { case pending = "Pending", running = "Running", succeeded = "Completed", failed = "Error" }

    let name: String
    let workload: Workload
    let templateHash: String
    let host: Int
    let address: String
    let namespace: String
    let interface: String
    /// The Service variables as they were when the pod was created (Kubernetes does the same).
    let serviceEnvironment: [String: String]
    let createdAt: ContinuousClock.Instant
    var phase = Phase.pending
    var ready = false
    var deletedAt: ContinuousClock.Instant?
    var restarts = 0
    /// Consecutive exits without becoming ready in between: the restart back-off.
    var crashLoops = 0
    /// Counts container starts; a stale exit or probe result (an earlier start's) is ignored.
    var generation = 0
    var process: SupervisedChild?
    var probes: Task<Void, Never>?
    var lastExit: String?
    var readyAt: ContinuousClock.Instant?
    var volumesToRemove: [String] = []
    /// Why the container is not running yet (ErrImagePull, ImagePullBackOff, CrashLoopBackOff).
    var waiting: PodWaiting?
    /// Consecutive failed pulls: the image back-off.
    var pullFailures = 0
    /// The image the running container was pulled as (images mode).
    var pulledImage: String?

    var terminating: Bool { deletedAt != nil }
    var container: Container? { workload.template.containers.first }
    var isFinished: Bool { phase == .succeeded || phase == .failed }

    var endpoint: Endpoint? {
        guard ready, !terminating, process != nil else { return nil }
        return Endpoint(
            pod: name, address: address, labels: workload.template.labels,
            ports: workload.template.containers.flatMap(\.ports),
            hostname: workload.kind == .statefulSet ? name : nil,
            subdomain: workload.kind == .statefulSet ? workload.serviceName : nil
        )
    }

    var status: String {
        if terminating { return "Terminating" }
        if let waiting, process == nil, !isFinished { return waiting.reason }
        if phase == .pending { return "ContainerCreating" }
        return phase.rawValue
    }
}

/// A container's waiting state, as `kubectl get pods` shows it in STATUS.
struct PodWaiting: Sendable {
    var reason: String
    var message: String
}

/// What `get pods` shows for one pod.
public struct PodInfo: Sendable, Codable, Equatable {
    public var name: String
    public var workload: String
    public var ready: Bool
    public var status: String
    public var restarts: Int
    public var address: String
    /// The manifest's image, and the message of the state the pod waits in (a pull error).
    public var image: String
    public var message: String?
    /// The pod-template-hash: pods of one template (one rollout) share it.
    public var templateHash: String
}

/// Kubernetes-style generated names: the template hash and the random suffix use the same
/// alphabet as the API server (no vowels, no ambiguous digits).
enum PodNames {
    static let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    static func suffix(_ count: Int = 5) -> String {
        String((0..<count).map { _ in alphabet.randomElement() ?? "x" })
    }

    /// A stable 10-character hash of what defines the pods (the template).
    static func templateHash(_ text: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return String((0..<10).map { index in alphabet[Int((hash >> (UInt64(index) * 6)) % UInt64(alphabet.count))] })
    }
}
