/// What `rehearse up` (or a test) asks for.
public struct ClusterOptions: Sendable {
    public var manifest: ClusterManifest
    /// Folder of the built services: `<bin>/<image name>` runs for our images.
    public var binDirectory: String
    /// DNS files, pod logs and volumes. Persistent volumes stay here between runs, as claims do.
    public var stateDirectory: String
    public var plan: NetworkPlan
    /// Copy every container's output, prefixed with its pod name, to standard output.
    public var echoLogs: Bool
    public var namespace: String

    public init(
        manifest: ClusterManifest, binDirectory: String, stateDirectory: String, plan: NetworkPlan = NetworkPlan(),
        echoLogs: Bool = true, namespace: String = "micro"
    ) {
        self.manifest = manifest
        self.binDirectory = binDirectory
        self.stateDirectory = stateDirectory
        self.plan = plan
        self.echoLogs = echoLogs
        self.namespace = namespace
    }
}
