import Discovery
import Logging
import ServiceTracing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One HTTP service's configuration, read from the environment (docs/design.md, "Configuration").
public struct RuntimeConfig: Sendable {
    public var service: MicroService
    /// Always all interfaces: inside a pod or a namespace the address is the pod's.
    public var host: String
    public var port: Int
    public var logLevel: Logger.Level
    public var discovery: DiscoveryConfig
    /// Request bodies above this size are refused with 413 before any handler reads them.
    public var maxBodySize: Int

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

    public init(
        service: MicroService, host: String = "0.0.0.0", port: Int? = nil, logLevel: Logger.Level = .info,
        discovery: DiscoveryConfig = DiscoveryConfig(), maxBodySize: Int = Self.defaultMaxBodySize,
        maxConnections: Int = Self.defaultMaxConnections, tracing: TracingConfig? = nil
    ) {
        self.service = service
        self.host = host
        self.port = port ?? service.port ?? 0
        self.logLevel = logLevel
        self.discovery = discovery
        self.maxBodySize = maxBodySize
        self.maxConnections = maxConnections
        self.tracing = tracing ?? .off(serviceName: service.name)
    }

    /// `<SERVICE>_SERVICE_PORT`, then `PORT`, then the service table's port; `LOG_LEVEL`; `DNS_*`;
    /// `OTEL_*` (`TracingConfig`). A value that is set but unusable throws, naming the variable.
    public init(service: MicroService, environment: [String: String]) throws(ConfigurationError) {
        let reader = EnvironmentReader(environment)
        var port = try reader.port(service.portVariable)
        if port == nil { port = try reader.port("PORT") }
        let levels = Logger.Level.allCases.map(\.rawValue)
        let level = try reader.choice("LOG_LEVEL", from: levels)
        let discovery = try DiscoveryConfig(environment: reader)
        let tracing = try TracingConfig(defaultServiceName: service.name, environment: reader)
        self.init(
            service: service, port: port, logLevel: level.flatMap(Logger.Level.init(rawValue:)) ?? .info,
            discovery: discovery, tracing: tracing
        )
    }
}
