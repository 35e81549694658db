/// Where and how names are resolved (docs/design.md, "Service discovery").
public struct DiscoveryConfig: Sendable, Equatable {
    public enum Mode: Sendable, Equatable {
        /// `DNS_HOST` set: ask that server directly, on `DNS_PORT` (default 53053). Local development.
        case direct(host: String, port: Int)
        /// `DNS_HOST` unset: the system resolver configured by `/etc/resolv.conf`. In the cluster.
        case system
    }

    public var mode: Mode
    public var namespace: String
    public var suffix: String

    public static let defaultDNSPort = 53053

    public init(mode: Mode = .system, namespace: String = "micro", suffix: String = "svc.cluster.local") {
        self.mode = mode
        self.namespace = namespace
        self.suffix = suffix
    }

    /// Reads `DNS_HOST`, `DNS_PORT`, `DNS_NAMESPACE`, `DNS_SUFFIX`.
    public init(environment: EnvironmentReader) throws(ConfigurationError) {
        let port = try environment.port("DNS_PORT") ?? Self.defaultDNSPort
        if let host = environment.string("DNS_HOST") {
            mode = .direct(host: host, port: port)
        } else {
            mode = .system
        }
        namespace = try Self.label("DNS_NAMESPACE", environment) ?? "micro"
        suffix = try Self.label("DNS_SUFFIX", environment) ?? "svc.cluster.local"
    }

    /// `_<port>._tcp.<service>.<namespace>.<suffix>`, the SRV name of a service's port.
    public func srvName(service: String, port: String) -> String {
        "_\(port)._tcp.\(service).\(namespace).\(suffix)"
    }

    public func srvName(_ service: MicroService) -> String {
        srvName(service: service.name, port: service.portName)
    }

    /// A DNS name part: letters, digits, hyphens and dots, no leading or trailing dot.
    private static func label(_ name: String, _ environment: EnvironmentReader) throws(ConfigurationError) -> String? {
        guard let text = environment.string(name) else { return nil }
        let allowed = text.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "-" || $0 == ".")
        }
        guard allowed, !text.hasPrefix("."), !text.hasSuffix(".") else {
            throw ConfigurationError(variable: name, value: text, reason: "expected a DNS name such as svc.cluster.local")
        }
        return text
    }
}
