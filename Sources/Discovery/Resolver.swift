// API skeleton: the Discovery helper replaces the bodies with the libresolv implementation.
import Logging

/// One place a service can be reached: an IPv4 address and a port, from SRV then A.
public struct ServiceTarget: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
    public var description: String { "\(host):\(port)" }
}

/// Why a lookup failed. The message names the query and the server that was asked.
public struct DiscoveryError: Error, CustomStringConvertible, Sendable {
    public enum Kind: Sendable, Equatable {
        case notFound, noAnswer, timeout, serverFailure, malformedAnswer, other
    }
    public let kind: Kind
    public let query: String
    public let server: String
    public let detail: String

    public init(kind: Kind, query: String, server: String, detail: String) {
        self.kind = kind
        self.query = query
        self.server = server
        self.detail = detail
    }

    public var description: String { "DNS lookup of \(query) via \(server) failed: \(detail)" }
}

/// Resolves service names to every target, caching answers for their TTL and falling back to
/// the last good answer when a lookup fails.
public final class ServiceResolver: Sendable {
    public let config: DiscoveryConfig

    public init(config: DiscoveryConfig, logger: Logger = Logger(label: "discovery")) {
        self.config = config
    }

    /// Every (host, port) behind `_<port>._tcp.<service>.<namespace>.<suffix>`.
    public func resolve(service: String, port: String = "main") async throws(DiscoveryError) -> [ServiceTarget] {
        throw DiscoveryError(kind: .other, query: config.srvName(service: service, port: port), server: "-", detail: "not implemented yet")
    }

    public func resolve(_ service: MicroService) async throws(DiscoveryError) -> [ServiceTarget] {
        try await resolve(service: service.name, port: service.portName)
    }
}
