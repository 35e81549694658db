/// How the rehearsal runs a pod's container.
public enum ContainerRuntime: Sendable, Equatable {
    /// As a kubelet does: the image pulled from its registry, run by podman with runc.
    case images
    /// The quick option: the service binaries of a build folder (`<folder>/<image name>`), and the
    /// machine's redis-server and mongod (or nx-27017) for the database images.
    case buildFolder(String)
}

/// What `rehearse up` (or a test) asks for.
public struct ClusterOptions: Sendable {
    /// Applied at start; empty for a cluster that waits for `rehearse apply`.
    public var manifest: ClusterManifest
    public var runtime: ContainerRuntime
    /// DNS files, pod logs and volumes. Persistent volumes stay here between runs, as claims do.
    public var stateDirectory: String
    public var plan: NetworkPlan
    /// Copy every container's output, prefixed with its pod name, to standard output.
    public var echoLogs: Bool
    public var namespace: String

    public init(
        manifest: ClusterManifest, runtime: ContainerRuntime, stateDirectory: String, plan: NetworkPlan = NetworkPlan(),
        echoLogs: Bool = true, namespace: String = "micro"
    ) {
        self.manifest = manifest
        self.runtime = runtime
        self.stateDirectory = stateDirectory
        self.plan = plan
        self.echoLogs = echoLogs
        self.namespace = namespace
    }
}
