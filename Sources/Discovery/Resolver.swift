import Logging
import NIOPosix

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

/// Timeouts and retry pacing of a `ServiceResolver`.
public struct ResolverOptions: Sendable {
    /// Seconds libresolv waits for one answer (it counts whole seconds).
    public var timeoutSeconds: Int
    /// Tries per server before the lookup fails.
    public var attempts: Int
    /// After a failed refresh the last good answer is served this long before DNS is asked again,
    /// so a dead DNS server costs one timeout per name now and then, not one per request.
    public var retryAfterFailure: Duration
    /// How long after its TTL an answer is still served at once while a query refreshes it in the
    /// background: with steady traffic no request waits for DNS (nor for a DNS server's timeout
    /// while it restarts). After a longer quiet spell the caller waits for the fresh answer, so
    /// it is not sent to pods that have long been replaced. Zero: always wait once expired.
    public var staleWhileRevalidate: Duration

    public init(
        timeoutSeconds: Int = 2, attempts: Int = 2, retryAfterFailure: Duration = .seconds(1),
        staleWhileRevalidate: Duration = .seconds(10)
    ) {
        self.timeoutSeconds = max(1, timeoutSeconds)
        self.attempts = max(1, attempts)
        self.retryAfterFailure = retryAfterFailure
        self.staleWhileRevalidate = staleWhileRevalidate
    }
}

/// Resolves service names to every target, caching answers for their TTL, refreshing them in the
/// background shortly after it, and falling back to the last good answer when a lookup fails.
///
/// Lookups use glibc's libresolv (through the CResolv shim): blocking calls, so they run on
/// `NIOThreadPool.dnsLookups`, never on an event loop. Concurrent lookups of one name share a query.
public final class ServiceResolver: Sendable {
    public let config: DiscoveryConfig
    public let options: ResolverOptions
    let logger: Logger
    private let cache: ResolverCache
    private let server: DNSServerAddress

    public init(config: DiscoveryConfig, logger: Logger = Logger(label: "discovery"), options: ResolverOptions = .init()) {
        self.config = config
        self.options = options
        self.logger = logger
        self.cache = ResolverCache(
            retryAfterFailure: options.retryAfterFailure, staleWhileRevalidate: options.staleWhileRevalidate, logger: logger
        )
        self.server = DNSServerAddress(config.mode)
    }

    /// Every (host, port) behind `_<port>._tcp.<service>.<namespace>.<suffix>`, sorted by SRV
    /// priority. Served from the cache while fresh, and just after while it is refreshed; the last
    /// good answer when DNS fails.
    public func resolve(service: String, port: String = "main") async throws(DiscoveryError) -> [ServiceTarget] {
        let name = config.srvName(service: service, port: port)
        return try await cache.targets(for: name) { [self] in await lookUp(name) }.get()
    }

    public func resolve(_ service: MicroService) async throws(DiscoveryError) -> [ServiceTarget] {
        try await resolve(service: service.name, port: service.portName)
    }

    /// One uncached SRV + A lookup on the lookup threads.
    private func lookUp(_ name: String) async -> Result<DNSAnswer, DiscoveryError> {
        let server = self.server
        let options = self.options
        do {
            let result = try await NIOThreadPool.dnsLookups.runIfActive {
                DNSQuery(server: server, options: options).lookUp(srvName: name)
            }
            if case .success(let answer) = result, !answer.skipped.isEmpty {
                logger.warning(
                    "SRV targets without an address left out", metadata: ["query": "\(name)", "skipped": "\(answer.skipped)"]
                )
            }
            return result
        } catch {
            return .failure(DiscoveryError(kind: .other, query: name, server: server.label, detail: "thread pool not running: \(error)"))
        }
    }
}

extension NIOThreadPool {
    /// Threads for blocking DNS lookups, apart from `NIOThreadPool.singleton` (one thread per
    /// core): a dead or silent DNS server holds a thread for the whole resolver timeout, and
    /// lookups of other names must not queue behind it. Each thread mostly waits on the network.
    /// Started once, never shut down, like the singleton.
    static let dnsLookups: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 8)
        pool.start()
        return pool
    }()
}
