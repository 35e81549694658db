import Discovery
import Logging

/// One HTTP service's configuration, read from the environment (DESIGN "Configuration").
public struct RuntimeConfig: Sendable {
    public var service: MicroService
    /// Always all interfaces: inside a pod or a namespace the address is the pod's.
    public var host: String
    public var port: Int
    public var logLevel: Logger.Level
    public var discovery: DiscoveryConfig
    /// Request bodies above this size are refused with 413 before any handler reads them.
    public var maxBodySize: Int

    public static let defaultMaxBodySize = 64 * 1024

    public init(
        service: MicroService, host: String = "0.0.0.0", port: Int? = nil, logLevel: Logger.Level = .info,
        discovery: DiscoveryConfig = DiscoveryConfig(), maxBodySize: Int = Self.defaultMaxBodySize
    ) {
        self.service = service
        self.host = host
        self.port = port ?? service.port ?? 0
        self.logLevel = logLevel
        self.discovery = discovery
        self.maxBodySize = maxBodySize
    }

    /// `<SERVICE>_SERVICE_PORT`, then `PORT`, then the service table's port; `LOG_LEVEL`; `DNS_*`.
    /// A value that is set but unusable throws, naming the variable.
    public init(service: MicroService, environment: [String: String]) throws(ConfigurationError) {
        let reader = EnvironmentReader(environment)
        var port = try reader.port(service.portVariable)
        if port == nil { port = try reader.port("PORT") }
        let levels = Logger.Level.allCases.map(\.rawValue)
        let level = try reader.choice("LOG_LEVEL", from: levels)
        let discovery = try DiscoveryConfig(environment: reader)
        self.init(
            service: service, port: port, logLevel: level.flatMap(Logger.Level.init(rawValue:)) ?? .info,
            discovery: discovery
        )
    }
}
