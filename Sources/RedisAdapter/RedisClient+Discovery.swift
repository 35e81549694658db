import Discovery
import Logging

extension RedisClient {
    /// Redis as every service finds it: the first target of `_main._tcp.redis.<namespace>.<suffix>`,
    /// looked up again before every reconnect, so a Redis that comes back at another address is
    /// found again. Each caller chooses its timeouts: a blocking reader needs a command timeout
    /// longer than its block, a writer on a page's path a short one. With `credentials` (the
    /// service's `REDIS_USERNAME`/`REDIS_PASSWORD`) every connection authenticates first.
    public static func discovered(
        by resolver: ServiceResolver, credentials: Credentials?, logger: Logger, connectTimeout: Duration = .seconds(2),
        commandTimeout: Duration = .seconds(5)
    ) -> RedisClient {
        RedisClient(
            endpoint: discoveredEndpoint(resolver), logger: logger, connectTimeout: connectTimeout, commandTimeout: commandTimeout,
            credentials: credentials
        )
    }

    /// The endpoint of `discovered(by:…)`.
    public static func discoveredEndpoint(_ resolver: ServiceResolver) -> Endpoint {
        {
            guard let target = try await resolver.resolve(.redis).first else {
                throw RedisError(.connection, "DNS returned no target for \(resolver.config.srvName(.redis))")
            }
            return (target.host, target.port)
        }
    }
}
