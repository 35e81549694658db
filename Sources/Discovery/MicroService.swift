/// The service table of docs/design.md, in code: one source of truth for names, ports and port names.
///
/// Service name = executable name = image name = Kubernetes Service name = DNS service label.
public struct MicroService: Hashable, Sendable, CustomStringConvertible {
    /// A named port: `_<name>._tcp.<service>.<namespace>.<suffix>` is its SRV name.
    public struct Port: Hashable, Sendable, CustomStringConvertible {
        public let name: String
        public let number: Int

        public init(name: String, number: Int) {
            self.name = name
            self.number = number
        }

        public var description: String { "\(name)=\(number)" }
    }

    /// DNS service label, executable and image name, e.g. `adderservice`.
    public let name: String
    /// The port of the service's own routes (`nil` for the report, which only connects, and for
    /// the eventservice, which serves none).
    public let port: Int?
    /// The SRV port name: `_<portName>._tcp.<name>.<namespace>.<suffix>`.
    public let portName: String
    /// The admin port, named `metrics`: `/healthz`, `/readyz` and `/metrics`, for the kubelet and
    /// Prometheus only, never exposed outside the cluster (`nil` for what micro does not build
    /// as an HTTP service: the report, mongo, redis).
    public let metricsPort: Int?

    /// The SRV port name of every service's admin port.
    public static let metricsPortName = "metrics"

    public init(name: String, port: Int?, portName: String = "main", metricsPort: Int? = nil) {
        self.name = name
        self.port = port
        self.portName = portName
        self.metricsPort = metricsPort
    }

    public var description: String { name }

    /// The environment variable Kubernetes injects for the service's port (`ADDERSERVICE_SERVICE_PORT`).
    public var portVariable: String { name.uppercased() + "_SERVICE_PORT" }

    /// The variable Kubernetes injects for the Service's port named `metrics`
    /// (`ADDERSERVICE_SERVICE_PORT_METRICS`).
    public var metricsPortVariable: String { portVariable + "_METRICS" }

    /// Every port the service listens on, its own first: what its Kubernetes Service, compose
    /// entry, DNS zone and fuge.yml entry list.
    public var ports: [Port] {
        var ports: [Port] = []
        if let port { ports.append(Port(name: portName, number: port)) }
        if let metricsPort { ports.append(Port(name: Self.metricsPortName, number: metricsPort)) }
        return ports
    }
}

extension MicroService {
    // Admin ports: the service's port + 1000 (the eventservice's former port 8082 + 1000), so a
    // glance pairs them; each is distinct, since the local environment runs every service on one host.
    public static let adderservice = MicroService(name: "adderservice", port: 8080, metricsPort: 9080)
    public static let auditservice = MicroService(name: "auditservice", port: 8081, metricsPort: 9081)
    /// A queue worker: nothing but the kubelet and Prometheus talks to it over HTTP, so it has
    /// only the admin port.
    public static let eventservice = MicroService(name: "eventservice", port: nil, metricsPort: 9082)
    public static let webapp = MicroService(name: "webapp", port: 3000, portName: "http", metricsPort: 4000)
    public static let report = MicroService(name: "report", port: nil)
    public static let mongo = MicroService(name: "mongo", port: 27017)
    public static let redis = MicroService(name: "redis", port: 6379)

    /// Every row of the table, in its order.
    public static let all: [MicroService] = [
        .adderservice, .auditservice, .eventservice, .webapp, .report, .mongo, .redis,
    ]
}
