import TestSupport

/// The objects of a rendered overlay that the consistency checks compare: the pods' workloads
/// (Deployment, StatefulSet, Job) and the Services.
struct RenderedManifests: Sendable {
    struct Container: Sendable {
        var name: String
        var image: String
        var ports: [DeclaredPort]
        var environment: [String: String]
        /// `readinessProbe.httpGet` / `livenessProbe.httpGet` as "path@port", nil when not HTTP.
        var readiness: String?
        var liveness: String?
    }

    struct Workload: Sendable {
        var kind: String
        var name: String
        var podLabels: [String: String]
        var podAnnotations: [String: String]
        var containers: [Container]
    }

    struct ServicePort: Sendable, Equatable {
        var name: String?
        var port: Int
        var targetPort: String
    }

    struct Service: Sendable {
        var name: String
        /// ClusterIP (also when headless), NodePort or LoadBalancer.
        var type: String
        var selector: [String: String]
        var ports: [ServicePort]
    }

    var workloads: [Workload] = []
    var services: [Service] = []

    init(yaml: String, source: String) throws {
        for object in try YAMLValue.documents(yaml, source: source) {
            let kind = try YAMLValue.string(object["kind"], at: "\(source) kind")
            let name = try YAMLValue.string(YAMLValue.mapping(object["metadata"], at: kind)["name"], at: "\(kind) name")
            let path = "\(source) \(kind)/\(name)"
            // Only these have a spec: a ConfigMap, a Namespace or a ServiceAccount has none.
            switch kind {
            case "Deployment", "StatefulSet", "Job":
                workloads.append(try Self.workload(kind: kind, name: name, spec: YAMLValue.mapping(object["spec"], at: path), path: path))
            case "Service":
                services.append(try Self.service(name: name, spec: YAMLValue.mapping(object["spec"], at: path), path: path))
            default:
                continue
            }
        }
    }

    func workload(named name: String) -> Workload? { workloads.first { $0.name == name } }
    func service(named name: String) -> Service? { services.first { $0.name == name } }

    private static func workload(kind: String, name: String, spec: [String: Any], path: String) throws -> Workload {
        let template = try YAMLValue.mapping(spec["template"], at: "\(path).spec.template")
        let metadata = try YAMLValue.mapping(template["metadata"], at: "\(path) template.metadata")
        let podSpec = try YAMLValue.mapping(template["spec"], at: "\(path) template.spec")
        let containers = try YAMLValue.sequence(podSpec["containers"], at: "\(path) containers").map {
            try container(YAMLValue.mapping($0, at: "\(path) container"), path: path)
        }
        return Workload(
            kind: kind, name: name,
            podLabels: try strings(metadata["labels"], at: "\(path) labels"),
            podAnnotations: try strings(metadata["annotations"], at: "\(path) annotations"),
            containers: containers
        )
    }

    private static func container(_ fields: [String: Any], path: String) throws -> Container {
        let ports = try YAMLValue.sequence(fields["ports"], at: "\(path) ports").map { value in
            let port = try YAMLValue.mapping(value, at: "\(path) port")
            return DeclaredPort(
                name: port["name"] as? String, number: try YAMLValue.integer(port["containerPort"], at: "\(path) containerPort"))
        }
        var environment: [String: String] = [:]
        for value in try YAMLValue.sequence(fields["env"], at: "\(path) env") {
            let variable = try YAMLValue.mapping(value, at: "\(path) env")
            environment[try YAMLValue.string(variable["name"], at: "\(path) env name")] = variable["value"].flatMap {
                try? YAMLValue.string($0, at: "")
            }
        }
        return Container(
            name: try YAMLValue.string(fields["name"], at: "\(path) container name"),
            image: try YAMLValue.string(fields["image"], at: "\(path) image"),
            ports: ports, environment: environment,
            readiness: try httpProbe(fields["readinessProbe"], path: path),
            liveness: try httpProbe(fields["livenessProbe"], path: path)
        )
    }

    private static func httpProbe(_ value: Any?, path: String) throws -> String? {
        guard let value, let get = try YAMLValue.mapping(value, at: "\(path) probe")["httpGet"] else { return nil }
        let fields = try YAMLValue.mapping(get, at: "\(path) httpGet")
        return
            "\(try YAMLValue.string(fields["path"], at: "\(path) probe path"))@\(try YAMLValue.string(fields["port"], at: "\(path) probe port"))"
    }

    private static func service(name: String, spec: [String: Any], path: String) throws -> Service {
        let ports = try YAMLValue.sequence(spec["ports"], at: "\(path) ports").map { value in
            let port = try YAMLValue.mapping(value, at: "\(path) port")
            let number = try YAMLValue.integer(port["port"], at: "\(path) port")
            // targetPort defaults to the port itself.
            let target = try port["targetPort"].map { try YAMLValue.string($0, at: "\(path) targetPort") } ?? String(number)
            return ServicePort(name: port["name"] as? String, port: number, targetPort: target)
        }
        return Service(
            name: name, type: spec["type"] as? String ?? "ClusterIP", selector: try strings(spec["selector"], at: "\(path) selector"),
            ports: ports
        )
    }

    private static func strings(_ value: Any?, at path: String) throws -> [String: String] {
        guard let value else { return [:] }
        var result: [String: String] = [:]
        for (key, element) in try YAMLValue.mapping(value, at: path) {
            result[key] = try YAMLValue.string(element, at: "\(path).\(key)")
        }
        return result
    }
}
