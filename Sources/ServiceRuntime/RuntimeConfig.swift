import Discovery
import Logging
import Platform
import ServiceTracing

/// One HTTP service's configuration, read from the environment (docs/design.md, "Configuration").
public struct RuntimeConfig: Sendable {
    public var service: MicroService
    /// Always all interfaces: inside a pod or a namespace the address is the pod's.
    public var host: String
    /// The port of the service's own routes; nil: the service has none (the eventservice).
    public var port: Int?
    /// The admin port: `/healthz`, `/readyz`, `/metrics` (docs/design.md, "The service table").
    public var metricsPort: Int
    public var logLevel: Logger.Level
    public var discovery: DiscoveryConfig
    /// Request bodies above this size are refused with 413 before any handler reads them.
    public var maxBodySize: Int
    /// What the service presents to Redis and MongoDB (`DependencyCredentials`).
    public var credentials = DependencyCredentials()

    /// Open connections beyond this are answered 503 and closed at once.
    public var maxConnections: Int
    /// A request must arrive whole within this of its first byte (or of the connection opening).
    public var requestTimeout: Duration = .seconds(10)
    /// A keep-alive connection may wait this long for its next request.
    public var idleTimeout: Duration = .seconds(60)
    /// Spans and trace context (the `OTEL_*` variables); off unless they ask for it.
    public var tracing: TracingConfig

    public static let defaultMaxBodySize = 64 * 1024

    /// Three quarters of the descriptor limit, leaving the rest for the service's own clients,
    /// databases and files; at most 16,384 (a few kB of buffers each).
    public static var defaultMaxConnections: Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 16_384 }
        return max(16, min(16_384, Int(clamping: limit.rlim_cur) / 4 * 3))
    }

    /// `port` and `metricsPort` default to the service table's; 0 is any free port (tests).
    public init(
        service: MicroService, host: String = "0.0.0.0", port: Int? = nil, metricsPort: Int? = nil,
        logLevel: Logger.Level = .info, discovery: DiscoveryConfig = DiscoveryConfig(),
        maxBodySize: Int = Self.defaultMaxBodySize, maxConnections: Int = Self.defaultMaxConnections, tracing: TracingConfig? = nil
    ) {
        self.service = service
        self.host = host
        self.port = port ?? service.port
        self.metricsPort = metricsPort ?? service.metricsPort ?? 0
        self.logLevel = logLevel
        self.discovery = discovery
        self.maxBodySize = maxBodySize
        self.maxConnections = maxConnections
        self.tracing = tracing ?? .off(serviceName: service.name)
    }

    /// `<SERVICE>_SERVICE_PORT`, then `PORT`, then the service table's port (read only for a
    /// service that has one); `<SERVICE>_SERVICE_PORT_METRICS`, then `METRICS_PORT`, then the
    /// table's admin port; `LOG_LEVEL`; `DNS_*`; `OTEL_*` (`TracingConfig`); the credentials. A
    /// value that is set but unusable throws, naming the variable; so does an admin port equal to
    /// the service's port.
    public init(service: MicroService, environment: [String: String]) throws(ConfigurationError) {
        let reader = EnvironmentReader(environment)
        let main = service.port == nil ? nil : try Self.port(reader, service.portVariable, "PORT")
        let admin = try Self.port(reader, service.metricsPortVariable, "METRICS_PORT")
        if let port = main?.number ?? service.port, port == admin?.number ?? service.metricsPort {
            // The table's two ports differ, so one of the two was set: name it.
            throw ConfigurationError(
                variable: admin?.variable ?? main?.variable ?? "", value: "\(port)",
                reason: "the admin (metrics) port must differ from the service's port"
            )
        }
        let levels = Logger.Level.allCases.map(\.rawValue)
        let level = try reader.choice("LOG_LEVEL", from: levels)
        let discovery = try DiscoveryConfig(environment: reader)
        let tracing = try TracingConfig(defaultServiceName: service.name, environment: reader)
        self.init(
            service: service, port: main?.number, metricsPort: admin?.number,
            logLevel: level.flatMap(Logger.Level.init(rawValue:)) ?? .info, discovery: discovery, tracing: tracing
        )
        credentials = try DependencyCredentials(environment: reader)
    }

    /// The first of `variables` that is set, as a port, and its name.
    private static func port(
        _ reader: EnvironmentReader, _ variables: String...
    ) throws(ConfigurationError) -> (number: Int, variable: String)? {
        for variable in variables {
            if let number = try reader.port(variable) { return (number, variable) }
        }
        return nil
    }
}
