import Discovery
import Hummingbird
import Logging
import ServiceLifecycle
import UnixSignals

/// What every micro HTTP service shares: configuration from the environment, logging, metrics,
/// discovery, the health/readiness/metrics routes and graceful shutdown.
///
///     let runtime = try ServiceRuntime(service: .adderservice, environment: ProcessInfo.processInfo.environment)
///     let router = runtime.makeRouter(readiness: [])
///     router.get("/add/:first/:second") { … }
///     try await runtime.run(runtime.makeApplication(router: router))
public struct ServiceRuntime: Sendable {
    public let config: RuntimeConfig
    public let logger: Logger
    public let resolver: ServiceResolver

    /// Longest a readiness check may take before it counts as failed.
    public static let readinessLimit: Duration = .seconds(2)
    /// How long in-flight requests get to finish after SIGTERM before the process stops anyway.
    public static let drainLimit: Duration = .seconds(10)

    public init(config: RuntimeConfig) {
        Observability.bootstrap()
        var logger = Logger(label: config.service.name)
        logger.logLevel = config.logLevel
        self.config = config
        self.logger = logger
        self.resolver = ServiceResolver(config: config.discovery, logger: logger)
    }

    /// Reads the configuration (DESIGN "Configuration"); a bad value throws, naming the variable.
    public init(service: MicroService, environment: [String: String]) throws(ConfigurationError) {
        self.init(config: try RuntimeConfig(service: service, environment: environment))
    }

    /// A router with `/healthz`, `/readyz`, `/metrics`, the shutdown's `Connection: close`, the
    /// request log, request metrics, the body limit and JSON errors. Add the service's routes to it.
    public func makeRouter(readiness: [ReadinessCheck] = []) -> Router<BasicRequestContext> {
        makeRouter(readiness: readiness, errors: JSONErrorMiddleware())
    }

    /// The same router with `errors` turning errors into responses where the JSON errors would:
    /// inside the request log and metrics, outside the body limit, so it also answers the
    /// runtime's own refusals (the webapp's HTML pages).
    public func makeRouter(
        readiness: [ReadinessCheck] = [], errors: some RouterMiddleware<BasicRequestContext>
    ) -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self)
        router.middlewares.add(ConnectionDrainMiddleware())
        router.middlewares.add(RequestTelemetryMiddleware(metrics: Observability.requestMetrics))
        router.middlewares.add(errors)
        router.middlewares.add(BodyLimitMiddleware(limit: config.maxBodySize))
        OperationalRoutes(checks: readiness, limit: Self.readinessLimit).add(to: router)
        return router
    }

    /// The HTTP server on `config.host:config.port`, with `services` (background workers,
    /// clients to shut down) run beside it under the same graceful shutdown.
    public func makeApplication(
        router: Router<BasicRequestContext>, services: [any Service] = []
    ) -> Application<RouterResponder<BasicRequestContext>> {
        var app = Application(
            router: router,
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: nil),
            logger: logger
        )
        app.addServices(services)
        return app
    }

    /// Runs `app` until SIGTERM or SIGINT, then answers with `Connection: close` for
    /// `ConnectionDrain.notice`, stops accepting, lets in-flight requests finish (the rest of
    /// `drainLimit`) and returns. Hummingbird's own `runService()` would wait forever.
    public func run(_ app: some ApplicationProtocol) async throws {
        var configuration = ServiceGroupConfiguration(services: [app], logger: logger)
        configuration.maximumGracefulShutdownDuration = Self.drainLimit - ConnectionDrain.notice
        let group = ServiceGroup(configuration: configuration)
        try await withThrowingDiscardingTaskGroup { tasks in
            tasks.addTask {
                for await _ in await UnixSignalsSequence(trapping: .sigterm, .sigint) {
                    logger.info("shutting down: closing keep-alive connections, then draining")
                    ConnectionDrain.begin()
                    try? await Task.sleep(for: ConnectionDrain.notice)
                    await group.triggerGracefulShutdown()
                    return
                }
            }
            try await group.run()
            tasks.cancelAll()
        }
    }
}
