import Discovery
import Logging
import RedisAdapter
import ServiceRuntime

/// The eventservice: the queue worker, plus /healthz, /readyz (Redis answers PING as the
/// service's user) and /metrics on its admin port, its only port (nothing else calls it over
/// HTTP); Redis found through discovery, as every service finds it
/// (`RedisClient.discoveredEndpoint`), with the service's credentials.
public func buildApplication(runtime: ServiceRuntime) -> ServiceApplication {
    buildApplication(
        runtime: runtime, endpoint: RedisClient.discoveredEndpoint(runtime.resolver), credentials: runtime.config.credentials.redis
    )
}

/// The same with Redis at another endpoint (tests: a loopback port) and other settings.
func buildApplication(
    runtime: ServiceRuntime, endpoint: @escaping RedisClient.Endpoint, credentials: Credentials? = nil,
    settings: EventWorkerSettings = EventWorkerSettings()
) -> ServiceApplication {
    // The consumer blocks in BLMOVE, so it gets its own connection and a longer command timeout.
    let consumer = RedisClient(
        endpoint: endpoint, logger: runtime.logger,
        connectTimeout: .seconds(2), commandTimeout: .seconds(settings.blockSeconds + 5), credentials: credentials
    )
    let monitor = RedisClient(
        endpoint: endpoint, logger: runtime.logger, connectTimeout: .seconds(1), commandTimeout: .seconds(2), credentials: credentials
    )
    let worker = EventWorker(consumer: consumer, monitor: monitor, settings: settings, logger: runtime.logger, tracer: runtime.tracer)
    return runtime.makeApplication(readiness: [ReadinessCheck("redis") { _ = try await monitor.command(["PING"]) }], services: [worker])
}
