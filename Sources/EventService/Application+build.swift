import Logging
import RedisAdapter
import ServiceRuntime

/// Where Redis is: the first target of `_main._tcp.redis.<namespace>.<suffix>`, looked up again
/// before every reconnect (Redis may come back at another address).
func redisEndpoint(resolver: ServiceResolver) -> RedisClient.Endpoint {
    {
        guard let target = try await resolver.resolve(.redis).first else {
            throw RedisError(.connection, "DNS returned no target for \(resolver.config.srvName(.redis))")
        }
        return (target.host, target.port)
    }
}

/// The eventservice: the queue worker, plus /healthz, /readyz (Redis answers PING) and /metrics
/// on the runtime's port; Redis found through discovery.
public func buildApplication(runtime: ServiceRuntime) -> ServiceApplication {
    buildApplication(runtime: runtime, endpoint: redisEndpoint(resolver: runtime.resolver))
}

/// The same with Redis at another endpoint (tests: a loopback port) and other settings.
func buildApplication(
    runtime: ServiceRuntime, endpoint: @escaping RedisClient.Endpoint, settings: EventWorkerSettings = EventWorkerSettings()
) -> ServiceApplication {
    // The consumer blocks in BLMOVE, so it gets its own connection and a longer command timeout.
    let consumer = RedisClient(
        endpoint: endpoint, logger: runtime.logger,
        connectTimeout: .seconds(2), commandTimeout: .seconds(settings.blockSeconds + 5)
    )
    let monitor = RedisClient(endpoint: endpoint, logger: runtime.logger, connectTimeout: .seconds(1), commandTimeout: .seconds(2))
    let worker = EventWorker(consumer: consumer, monitor: monitor, settings: settings, logger: runtime.logger, tracer: runtime.tracer)
    return runtime.makeApplication(
        routes: NoRoutes(), readiness: [ReadinessCheck("redis") { _ = try await monitor.command(["PING"]) }], services: [worker]
    )
}
