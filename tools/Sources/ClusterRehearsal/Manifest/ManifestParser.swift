import Foundation
import Yams

extension ClusterManifest {
    /// Parses every object of a rendered overlay (`kubectl kustomize` output, `---`-separated).
    public init(yaml: String) throws(ManifestError) {
        self.init()
        let documents: [Any?]
        do {
            documents = Array(try Yams.load_all(yaml: yaml))
        } catch {
            throw ManifestError("the manifests are not YAML: \(error)")
        }
        for document in documents where document != nil {
            try add(Fields(document, at: "object"))
        }
    }

    private mutating func add(_ object: Fields) throws(ManifestError) {
        let kind = try object.requiredString("kind")
        let name = try object.mapping("metadata").requiredString("name")
        let at = "\(kind)/\(name)"
        let spec = try Fields.optional(object.values["spec"], at: "\(at).spec")
        switch kind {
        case "Deployment", "StatefulSet", "Job":
            workloads.append(try Self.workload(Workload.Kind(rawValue: kind) ?? .deployment, name: name, spec: spec))
        case "Service":
            services.append(try Self.service(name: name, spec: spec))
        case "Secret":
            secrets[name] = try Self.secretData(object, at: at)
        case "ConfigMap":
            configMaps[name] = try object.labels("data")
        default:
            ignored.append(at)
        }
    }

    /// `data` (base64, as kustomize's secretGenerator writes it) and `stringData`, which wins.
    private static func secretData(_ object: Fields, at: String) throws(ManifestError) -> [String: String] {
        var values: [String: String] = [:]
        for (key, encoded) in try object.labels("data") {
            // kubectl kustomize wraps long values over lines.
            let joined = encoded.filter { !$0.isWhitespace }
            guard let bytes = Data(base64Encoded: joined), let text = String(data: bytes, encoding: .utf8) else {
                throw ManifestError("\(at).data.\(key): not base64 of UTF-8 text")
            }
            values[key] = text
        }
        return values.merging(try object.labels("stringData")) { $1 }
    }

    private static func workload(_ kind: Workload.Kind, name: String, spec: Fields) throws(ManifestError) -> Workload {
        let template = try PodTemplate(spec.mapping("template"), kind: kind)
        let claims = try spec.mappings("volumeClaimTemplates").map { claim throws(ManifestError) in
            try claim.mapping("metadata").requiredString("name")
        }
        return Workload(
            kind: kind, name: name, replicas: try spec.int("replicas") ?? 1, template: template,
            strategy: try strategy(spec.mapping("strategy")), serviceName: try spec.string("serviceName"),
            claimTemplates: claims, backoffLimit: try spec.int("backoffLimit") ?? 6
        )
    }

    private static func strategy(_ fields: Fields) throws(ManifestError) -> RolloutStrategy {
        if try fields.string("type") == "Recreate" { return .recreate }
        let rolling = try fields.mapping("rollingUpdate")
        return .rollingUpdate(
            maxSurge: try rolling.intOrPercent("maxSurge") ?? .percent(25),
            maxUnavailable: try rolling.intOrPercent("maxUnavailable") ?? .percent(25)
        )
    }

    private static func service(name: String, spec: Fields) throws(ManifestError) -> ServiceObject {
        let kind: ServiceObject.Kind
        if try spec.string("clusterIP") == "None" {
            kind = .headless
        } else {
            // LoadBalancer also allocates a node port; here it is one.
            kind = try ["NodePort", "LoadBalancer"].contains(spec.string("type") ?? "ClusterIP") ? .nodePort : .clusterIP
        }
        let ports = try spec.mappings("ports").map { port throws(ManifestError) in
            guard let number = try port.int("port") else { throw ManifestError("Service/\(name): a port without a number") }
            return ServicePort(
                name: try port.string("name"), port: number,
                targetPort: try port.portReference("targetPort") ?? .number(number), nodePort: try port.int("nodePort")
            )
        }
        return ServiceObject(name: name, kind: kind, selector: try spec.labels("selector"), ports: ports)
    }
}

extension PodTemplate {
    init(_ template: Fields, kind: Workload.Kind) throws(ManifestError) {
        let spec = try template.mapping("spec")
        let defaultPolicy: RestartPolicy = kind == .job ? .never : .always
        self.init(
            labels: try template.mapping("metadata").labels("labels"),
            containers: try spec.mappings("containers").map { fields throws(ManifestError) in try Container(fields) },
            volumes: try spec.mappings("volumes").map { fields throws(ManifestError) in try Volume(fields) },
            terminationGracePeriodSeconds: try spec.int("terminationGracePeriodSeconds") ?? 30,
            security: try SecurityContext(spec.mapping("securityContext")),
            restartPolicy: try spec.string("restartPolicy").flatMap(RestartPolicy.init(rawValue:)) ?? defaultPolicy,
            fingerprint: (try? Yams.dump(object: template.values, sortKeys: true)) ?? "\(template.values)"
        )
    }
}

extension SecurityContext {
    init(_ fields: Fields) throws(ManifestError) {
        let capabilities = try fields.mapping("capabilities")
        self.init(
            runAsUser: try fields.int("runAsUser"), runAsGroup: try fields.int("runAsGroup"), fsGroup: try fields.int("fsGroup"),
            seccompProfile: try fields.mapping("seccompProfile").string("type"),
            readOnlyRootFilesystem: fields.values["readOnlyRootFilesystem"] as? Bool ?? false,
            allowPrivilegeEscalation: fields.values["allowPrivilegeEscalation"] as? Bool ?? true,
            capabilitiesDrop: try capabilities.strings("drop"), capabilitiesAdd: try capabilities.strings("add")
        )
    }
}

/// Kubernetes resource quantities of memory: `256Mi`, `1Gi`, `128M`, `1e9`, plain bytes.
enum Quantity {
    static func bytes(_ text: String) -> Int64? {
        let units: [(String, Double)] = [
            ("Ki", 0x400), ("Mi", 0x10_0000), ("Gi", 0x4000_0000), ("Ti", 0x100_0000_0000),
            ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12),
        ]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { Int64($0 * factor) }
        }
        return Double(text).map { Int64($0) }
    }
}

extension Volume {
    init(_ fields: Fields) throws(ManifestError) {
        let name = try fields.requiredString("name")
        if fields.has("persistentVolumeClaim") {
            self.init(name: name, source: .claim(try fields.mapping("persistentVolumeClaim").requiredString("claimName")))
        } else if fields.has("secret") {
            let secret = try fields.mapping("secret")
            self.init(name: name, source: .files(try VolumeFiles(secret, kind: .secret, name: secret.requiredString("secretName"))))
        } else if fields.has("configMap") {
            let map = try fields.mapping("configMap")
            self.init(name: name, source: .files(try VolumeFiles(map, kind: .configMap, name: map.requiredString("name"))))
        } else {
            // emptyDir, and anything else (projected, downwardAPI …), is a fresh per-pod folder.
            self.init(name: name, source: .emptyDir)
        }
    }
}

extension VolumeFiles {
    init(_ fields: Fields, kind: Kind, name: String) throws(ManifestError) {
        var items: [String: String]?
        if fields.has("items") {
            items = [:]
            for item in try fields.mappings("items") { items?[try item.requiredString("key")] = try item.requiredString("path") }
        }
        self.init(
            kind: kind, name: name, items: items, defaultMode: try fields.int("defaultMode") ?? 0o644,
            optional: fields.values["optional"] as? Bool ?? false
        )
    }
}

extension EnvironmentValue {
    /// `value`, or `valueFrom.secretKeyRef`; any other `valueFrom` is refused, naming it, rather
    /// than run with an empty value.
    init(_ variable: Fields) throws(ManifestError) {
        guard variable.has("valueFrom") else {
            self = .value(try variable.string("value") ?? "")
            return
        }
        let from = try variable.mapping("valueFrom")
        guard from.has("secretKeyRef"), from.values.count == 1 else {
            throw ManifestError("\(from.path): only secretKeyRef is rehearsed, not \(from.values.keys.sorted().joined(separator: ", "))")
        }
        let reference = try from.mapping("secretKeyRef")
        self = .secretKey(
            secret: try reference.requiredString("name"), key: try reference.requiredString("key"),
            optional: reference.values["optional"] as? Bool ?? false
        )
    }
}

extension Container {
    init(_ fields: Fields) throws(ManifestError) {
        let name = try fields.requiredString("name")
        var environment: [(name: String, value: EnvironmentValue)] = []
        for variable in try fields.mappings("env") {
            environment.append((try variable.requiredString("name"), try EnvironmentValue(variable)))
        }
        var readOnlyPaths: Set<String> = []
        for mount in try fields.mappings("volumeMounts") where mount.values["readOnly"] as? Bool == true {
            readOnlyPaths.insert(try mount.requiredString("mountPath"))
        }
        let sleep = try fields.mapping("lifecycle").mapping("preStop").mapping("sleep").int("seconds")
        let image = try fields.requiredString("image")
        let memory = try fields.mapping("resources").mapping("limits").string("memory")
        let limit = try memory.map { text throws(ManifestError) in
            guard let bytes = Quantity.bytes(text) else { throw ManifestError("\(name).resources.limits.memory: not a quantity: \(text)") }
            return bytes
        }
        let policy = try fields.string("imagePullPolicy").map { text throws(ManifestError) in
            guard let policy = PullPolicy(rawValue: text) else { throw ManifestError("\(name).imagePullPolicy: \(text)") }
            return policy
        }
        self.init(
            name: name, image: image, imagePullPolicy: policy ?? ImageReference(image).defaultPullPolicy,
            command: try fields.strings("command"), args: try fields.strings("args"),
            ports: try fields.mappings("ports").map { port throws(ManifestError) in
                ContainerPort(name: try port.string("name"), number: try port.int("containerPort") ?? 0)
            },
            environment: environment,
            readiness: try Probe(fields.values["readinessProbe"], at: "\(name).readinessProbe"),
            liveness: try Probe(fields.values["livenessProbe"], at: "\(name).livenessProbe"),
            preStopSleepSeconds: sleep,
            mounts: try fields.mappings("volumeMounts").map { mount throws(ManifestError) in
                (try mount.requiredString("name"), try mount.requiredString("mountPath"))
            },
            readOnlyPaths: readOnlyPaths, security: try SecurityContext(fields.mapping("securityContext")), memoryLimit: limit
        )
    }
}

extension Probe {
    /// nil when the container has no such probe. Defaults are Kubernetes'.
    init?(_ value: Any?, at path: String) throws(ManifestError) {
        guard let value else { return nil }
        let fields = try Fields(value, at: path)
        let action: Action
        if fields.has("httpGet") {
            let get = try fields.mapping("httpGet")
            guard let port = try get.portReference("port") else { throw ManifestError("\(path).httpGet.port is missing") }
            action = .httpGet(path: try get.string("path") ?? "/", port: port)
        } else if fields.has("tcpSocket") {
            guard let port = try fields.mapping("tcpSocket").portReference("port") else {
                throw ManifestError("\(path).tcpSocket.port is missing")
            }
            action = .tcpSocket(port: port)
        } else if fields.has("exec") {
            action = .exec(try fields.mapping("exec").strings("command"))
        } else {
            throw ManifestError("\(path): only httpGet, tcpSocket and exec probes are rehearsed")
        }
        self.init(
            action: action, initialDelaySeconds: try fields.int("initialDelaySeconds") ?? 0,
            periodSeconds: try fields.int("periodSeconds") ?? 10, timeoutSeconds: try fields.int("timeoutSeconds") ?? 1,
            failureThreshold: try fields.int("failureThreshold") ?? 3, successThreshold: try fields.int("successThreshold") ?? 1
        )
    }
}
