/// The service table of docs/design.md, in code: one source of truth for names, ports and port names.
///
/// Service name = executable name = image name = Kubernetes Service name = DNS service label.
public struct MicroService: Hashable, Sendable, CustomStringConvertible {
    /// DNS service label, executable and image name, e.g. `adderservice`.
    public let name: String
    /// The port the service listens on by default (`nil` for the report, which only connects).
    public let port: Int?
    /// The SRV port name: `_<portName>._tcp.<name>.<namespace>.<suffix>`.
    public let portName: String

    public init(name: String, port: Int?, portName: String = "main") {
        self.name = name
        self.port = port
        self.portName = portName
    }

    public var description: String { name }

    /// The environment variable Kubernetes injects for the service's port (`ADDERSERVICE_SERVICE_PORT`).
    public var portVariable: String { name.uppercased() + "_SERVICE_PORT" }
}

extension MicroService {
    public static let adderservice = MicroService(name: "adderservice", port: 8080)
    public static let auditservice = MicroService(name: "auditservice", port: 8081)
    public static let eventservice = MicroService(name: "eventservice", port: 8082)
    public static let webapp = MicroService(name: "webapp", port: 3000, portName: "http")
    public static let report = MicroService(name: "report", port: nil)
    public static let mongo = MicroService(name: "mongo", port: 27017)
    public static let redis = MicroService(name: "redis", port: 6379)

    /// Every row of the table, in its order.
    public static let all: [MicroService] = [
        .adderservice, .auditservice, .eventservice, .webapp, .report, .mongo, .redis,
    ]
}
