import Discovery
import Logging
import NIOCore
import ServiceLifecycle
import ServiceTracing
import UnixSignals

/// What every micro HTTP service shares: configuration from the environment, logging, metrics,
/// discovery, the HTTP server with the health/readiness/metrics routes, and graceful shutdown.
///
///     let runtime = ServiceMain.start(.adderservice)  // the executable's process-wide set-up
///     await runtime.runOrExit(runtime.makeApplication(routes: AdderRoutes()))
///
/// Building one touches no process-wide state: tests build as many as they like.
public struct ServiceRuntime: Sendable {
    public let config: RuntimeConfig
    public let logger: Logger
    public let resolver: ServiceResolver
    /// The tracer and its exporter when `config.tracing` turns tracing on; nil otherwise, and then
    /// no request, call or message does any span work.
    public let tracing: TracingBackend?

    /// The process's tracer, for the spans a service makes itself (calls, messages).
    public var tracer: MicroTracer? { tracing?.tracer }

    /// Longest a readiness check may take before it counts as failed.
    public static let readinessLimit: Duration = .seconds(2)
    /// The drain budget: all a service does after SIGTERM — the `closeNotice`, in-flight requests
    /// finishing, then its background services' own shutdown — fits in this; at its end what
    /// still runs is cancelled and the process exits. Kubernetes allows
    /// terminationGracePeriodSeconds less the preStop sleep (DeploymentTests/DrainBudgetTests
    /// checks every manifest); code with shutdown work of its own derives its share from this.
    public static let drainLimit: Duration = .seconds(10)
    /// The first part of the drain: every answer says `Connection: close` (`CloseNotice`). Long
    /// enough for every busy connection to see one more answer.
    static let closeNotice: Duration = .seconds(1)

    /// `logger`: where the service logs; by default standard output in logfmt (tests capture it).
    public init(config: RuntimeConfig, logger: Logger? = nil) {
        var logger = logger ?? Logger(label: config.service.name)
        logger.logLevel = config.logLevel
        self.config = config
        self.logger = logger
        self.resolver = ServiceResolver(config: config.discovery, logger: logger)
        self.tracing = TracingBackend(config: config.tracing, logger: logger)
    }

    /// Reads the configuration (docs/design.md, "Configuration"); a bad value throws, naming the variable.
    public init(service: MicroService, environment: [String: String]) throws(ConfigurationError) {
        self.init(config: try RuntimeConfig(service: service, environment: environment))
    }

    /// The service's HTTP server on `config.host:config.port` — `/healthz`, `/readyz` (running
    /// `readiness`), `/metrics`, then `routes`; errors answered by `errors` (JSON by default) —
    /// with `services` (background workers, clients to shut down) run beside it under the same
    /// graceful shutdown. Services listed first stop last; before them all, the span exporter,
    /// which sends the spans of the drain too (`SpanExporter`).
    public func makeApplication(
        routes: some Routes, readiness: [ReadinessCheck] = [], errors: @escaping ErrorResponder = jsonErrors,
        services: [any Service] = []
    ) -> ServiceApplication {
        let responder = Responder(
            routes: OperationalRoutes(checks: readiness, limit: Self.readinessLimit, service: routes),
            errors: errors, maxBodySize: config.maxBodySize,
            telemetry: RequestTelemetry(metrics: Observability.requestMetrics, logger: logger), logger: logger, tracer: tracer
        )
        let limits = ConnectionStateMachine.Limits(
            requestRead: .nanoseconds(config.requestTimeout.nanoseconds), idle: .nanoseconds(config.idleTimeout.nanoseconds),
            maxBodySize: config.maxBodySize
        )
        let settings = HTTPServer.Settings(host: config.host, port: config.port, maxConnections: config.maxConnections, limits: limits)
        let exporter: [any Service] = tracing?.exporter.map { [$0] } ?? []
        return ServiceApplication(settings: settings, responder: responder, services: exporter + services, logger: logger)
    }

    /// Runs `app` until SIGTERM or SIGINT, then shuts it down within `drainLimit`: for
    /// `closeNotice` every answer says `Connection: close`; then the server stops accepting,
    /// closes idle connections and lets in-flight requests finish; then the other services stop,
    /// last listed first. Returns when all have (swift-service-lifecycle's ServiceGroup, which
    /// traps the signals before anything starts: a SIGTERM right after start drains too).
    public func run(_ app: ServiceApplication) async throws {
        var configuration = ServiceGroupConfiguration(services: app.services + [app.makeServer(closeNotice: Self.closeNotice)], logger: logger)
        configuration.gracefulShutdownSignals = [.sigterm, .sigint]
        configuration.maximumGracefulShutdownDuration = Self.drainLimit
        try await ServiceGroup(configuration: configuration).run()
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
