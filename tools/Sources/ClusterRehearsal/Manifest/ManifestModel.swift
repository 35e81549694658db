/// The parts of the rendered Kubernetes objects the rehearsal runs: workloads (Deployment,
/// StatefulSet, Job) with their pod templates, and Services. What only a scheduler or an API
/// server would read (requests, CPU limits, affinity, …) is left out: there is one node here.
public struct ClusterManifest: Sendable {
    public var workloads: [Workload] = []
    public var services: [ServiceObject] = []
    /// Secrets and ConfigMaps by name: key → value (a Secret's `data` decoded). What pods take
    /// from them (`secretKeyRef` variables, `secret` and `configMap` volumes) is resolved when
    /// their container starts, as the kubelet does.
    public var secrets: [String: [String: String]] = [:]
    public var configMaps: [String: [String: String]] = [:]
    /// Objects of kinds the rehearsal does not run, e.g. "PersistentVolumeClaim/redis-data".
    public var ignored: [String] = []

    public init() {}

    public func workload(_ name: String) -> Workload? { workloads.first { $0.name == name } }
    public func service(_ name: String) -> ServiceObject? { services.first { $0.name == name } }
}

public struct Workload: Sendable {
    public enum Kind: String, Sendable { case deployment = "Deployment", statefulSet = "StatefulSet", job = "Job" }

    public var kind: Kind
    public var name: String
    public var replicas: Int
    public var template: PodTemplate
    /// Deployment: RollingUpdate (with its surge/unavailable) or Recreate.
    public var strategy: RolloutStrategy
    /// StatefulSet: the headless Service giving pods `<pod>.<service>` names; claim templates.
    public var serviceName: String?
    public var claimTemplates: [String]
    /// Job: failed pods before giving up.
    public var backoffLimit: Int
}

/// `spec.strategy`; the percentages stay as written and are resolved against the replica count
/// as Kubernetes does (surge rounds up, unavailable rounds down).
public enum RolloutStrategy: Sendable, Equatable {
    case recreate
    case rollingUpdate(maxSurge: IntOrPercent, maxUnavailable: IntOrPercent)

    /// Kubernetes' default: 25 % surge, 25 % unavailable.
    public static let standard = RolloutStrategy.rollingUpdate(maxSurge: .percent(25), maxUnavailable: .percent(25))
}

public enum IntOrPercent: Sendable, Equatable {
    case count(Int)
    case percent(Int)

    public func resolve(_ replicas: Int, roundUp: Bool) -> Int {
        switch self {
        case .count(let value): return value
        case .percent(let value):
            let scaled = replicas * value
            return roundUp ? (scaled + 99) / 100 : scaled / 100
        }
    }
}

public struct PodTemplate: Sendable {
    public var labels: [String: String]
    public var containers: [Container]
    public var volumes: [Volume]
    public var terminationGracePeriodSeconds: Int
    /// The pod's securityContext: user, group, fsGroup, seccomp; a container's own overrides it.
    public var security: SecurityContext
    public var restartPolicy: RestartPolicy
    /// The template as rendered, keys sorted: two templates are the same pod exactly when these
    /// are equal (what the pod-template-hash is made of).
    public var fingerprint: String
    /// `kubectl rollout restart` sets the annotation kubectl.kubernetes.io/restartedAt: a new template.
    public var restartedAt: String?

    public var runAsUser: Int? { security.runAsUser }
    public var runAsGroup: Int? { security.runAsGroup }
}

/// A pod's or a container's securityContext, as far as a container runtime applies it.
public struct SecurityContext: Sendable, Equatable {
    public var runAsUser: Int?
    public var runAsGroup: Int?
    public var fsGroup: Int?
    /// RuntimeDefault, Unconfined or Localhost; unset means Unconfined, as in Kubernetes.
    public var seccompProfile: String?
    public var readOnlyRootFilesystem = false
    public var allowPrivilegeEscalation = true
    public var capabilitiesDrop: [String] = []
    public var capabilitiesAdd: [String] = []

    /// The container's context over the pod's: a field the container sets wins.
    public func overriding(_ pod: SecurityContext) -> SecurityContext {
        var merged = self
        merged.runAsUser = runAsUser ?? pod.runAsUser
        merged.runAsGroup = runAsGroup ?? pod.runAsGroup
        merged.fsGroup = pod.fsGroup
        merged.seccompProfile = seccompProfile ?? pod.seccompProfile
        return merged
    }
}

public enum RestartPolicy: String, Sendable { case always = "Always", onFailure = "OnFailure", never = "Never" }

public struct Volume: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        case emptyDir
        case claim(String)
        /// A Secret's or ConfigMap's keys as files (read-only in the container).
        case files(VolumeFiles)
    }
    public var name: String
    public var source: Source
}

/// A `secret` or `configMap` volume: the object's keys (or the listed `items`) as files of mode
/// `defaultMode` (Kubernetes' default 0644), owned by root and the pod's fsGroup.
public struct VolumeFiles: Sendable, Equatable {
    public enum Kind: String, Sendable { case secret = "Secret", configMap = "ConfigMap" }
    public var kind: Kind
    public var name: String
    /// key → file path in the volume; nil: every key, under its own name.
    public var items: [String: String]?
    public var defaultMode: Int
    public var optional: Bool

    public init(kind: Kind, name: String, items: [String: String]? = nil, defaultMode: Int = 0o644, optional: Bool = false) {
        self.kind = kind
        self.name = name
        self.items = items
        self.defaultMode = defaultMode
        self.optional = optional
    }
}

/// A container variable's value: written in the manifest, or a key of a Secret.
public enum EnvironmentValue: Sendable, Equatable {
    case value(String)
    case secretKey(secret: String, key: String, optional: Bool)
}

public struct Container: Sendable {
    public enum PullPolicy: String, Sendable { case always = "Always", ifNotPresent = "IfNotPresent", never = "Never" }

    public var name: String
    public var image: String
    public var imagePullPolicy: PullPolicy
    public var command: [String]
    public var args: [String]
    public var ports: [ContainerPort]
    /// `env` in order: literal `value`s and `valueFrom.secretKeyRef`s (other sources are refused).
    public var environment: [(name: String, value: EnvironmentValue)]
    public var readiness: Probe?
    public var liveness: Probe?
    public var preStopSleepSeconds: Int?
    public var mounts: [(volume: String, path: String)]
    /// Mount paths the manifest mounts `readOnly` (a secret or configMap volume is read-only anyway).
    public var readOnlyPaths: Set<String> = []
    /// The container's own securityContext (the pod's is in the template).
    public var security: SecurityContext
    /// resources.limits.memory in bytes: the container's memory cgroup limit.
    public var memoryLimit: Int64?

    /// A named or numbered port of this container, as probes and Services refer to it.
    public func port(_ reference: PortReference) -> Int? {
        switch reference {
        case .number(let number): return number
        case .name(let name): return ports.first { $0.name == name }?.number
        }
    }
}

public struct ContainerPort: Sendable, Hashable {
    public var name: String?
    public var number: Int
}

public enum PortReference: Sendable, Equatable {
    case number(Int)
    case name(String)
}

public struct Probe: Sendable {
    public enum Action: Sendable {
        case httpGet(path: String, port: PortReference)
        case tcpSocket(port: PortReference)
        case exec([String])
    }
    public var action: Action
    public var initialDelaySeconds: Int
    public var periodSeconds: Int
    public var timeoutSeconds: Int
    public var failureThreshold: Int
    public var successThreshold: Int
}

public struct ServiceObject: Sendable {
    public enum Kind: Sendable, Equatable {
        /// `clusterIP: None`: DNS answers with the ready pods themselves.
        case headless
        case clusterIP
        case nodePort
    }
    public var name: String
    public var kind: Kind
    public var selector: [String: String]
    public var ports: [ServicePort]
}

public struct ServicePort: Sendable, Equatable {
    public var name: String?
    public var port: Int
    public var targetPort: PortReference
    /// NodePort: the manifest's number, or nil for one assigned at start.
    public var nodePort: Int?
}
