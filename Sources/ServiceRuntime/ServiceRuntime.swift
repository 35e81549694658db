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

    /// The service's HTTP servers: `routes` on `config.port` (errors answered by `errors`, JSON
    /// by default; no such server when the service has no port), and on `config.metricsPort` the
    /// admin server with `/healthz`, `/readyz` (running `readiness`) and `/metrics` only — with
    /// `services` (background workers, clients to shut down) run beside them under the same
    /// graceful shutdown. Services listed first stop last; before them all, the span exporter,
    /// which sends the spans of the drain too (`SpanExporter`). The admin port's requests make
    /// no spans: the probes and Prometheus ask every few seconds.
    public func makeApplication(
        routes: any Routes = NoRoutes(), readiness: [ReadinessCheck] = [], errors: @escaping ErrorResponder = jsonErrors,
        services: [any Service] = []
    ) -> ServiceApplication {
        let telemetry = RequestTelemetry(metrics: Observability.requestMetrics, logger: logger)
        let limits = ConnectionStateMachine.Limits(
            requestRead: .nanoseconds(config.requestTimeout.nanoseconds), idle: .nanoseconds(config.idleTimeout.nanoseconds),
            maxBodySize: config.maxBodySize
        )
        let listening = ListeningFlag()
        let main = config.port.map { port in
            ServiceApplication.Listener(
                settings: HTTPServer.Settings(
                    name: config.service.portName, host: config.host, port: port, maxConnections: config.maxConnections, limits: limits,
                    listening: listening
                ),
                server: ServerContext(
                    routes: routes, errors: errors, maxBodySize: config.maxBodySize, telemetry: telemetry, logger: logger, tracer: tracer
                )
            )
        }
        // Ready also means the service's own port accepts: the admin port may be up first.
        let checks = (config.port.map { [listening.check(port: $0)] } ?? []) + readiness
        let admin = ServiceApplication.Listener(
            settings: HTTPServer.Settings(
                name: MicroService.metricsPortName, host: config.host, port: config.metricsPort,
                maxConnections: Self.adminConnections, limits: limits
            ),
            server: ServerContext(
                routes: OperationalRoutes(checks: checks, limit: Self.readinessLimit),
                errors: jsonErrors, maxBodySize: config.maxBodySize, telemetry: telemetry, logger: logger
            )
        )
        let exporter: [any Service] = tracing?.exporter.map { [$0] } ?? []
        return ServiceApplication(main: main, admin: admin, services: exporter + services, logger: logger)
    }

    /// The admin port's connection cap. Its callers are the kubelet (a connection per probe) and
    /// Prometheus (a keep-alive connection per scraper): a few. The cap keeps a flood of that
    /// port from taking the descriptors the service's own port needs.
    static let adminConnections = 64

    /// Runs `app` until SIGTERM or SIGINT, then shuts it down within `drainLimit`: for
    /// `closeNotice` every answer on the service's port says `Connection: close`; then that
    /// server stops accepting, closes idle connections and lets in-flight requests finish; then
    /// the other services stop, last listed first; the admin server last, so probes and the
    /// last scrape are answered throughout. Returns when all have (swift-service-lifecycle's
    /// ServiceGroup, which traps the signals before anything starts: a SIGTERM right after start
    /// drains too).
    public func run(_ app: ServiceApplication) async throws {
        var configuration = ServiceGroupConfiguration(services: app.makeServers(closeNotice: Self.closeNotice).ordered, logger: logger)
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
