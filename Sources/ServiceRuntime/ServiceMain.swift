import Discovery
import Logging
import NIOCore
import Platform
import ServiceTracing

/// What an executable's top level calls first, and nothing else does: the process-wide set-up
/// (as the Hummingbird template leaves it to the executable), then the runtime from the
/// environment. Tests build runtimes with `ServiceRuntime(config:)` and touch no global state.
///
///     let runtime = ServiceMain.start(.adderservice)
///     await runtime.runOrExit(buildApplication(runtime: runtime))
public enum ServiceMain {
    /// Event loops sized to the CPUs the process may use, before NIO starts them; then the
    /// configuration (docs/design.md, "Configuration"); then one logging and metrics backend for
    /// the process — with tracing on, every log line inside a span carries its `trace_id` and
    /// `span_id`. A variable with a bad value: a one-line message on stderr naming it and exit
    /// status 78 (EX_CONFIG), before anything starts.
    public static func start(_ service: MicroService) -> ServiceRuntime {
        // Async handlers stay on Swift's default executor: NIO's executor takeover cannot install
        // with the static Swift runtime the images use, and measured slower (bench/RESULTS.md).
        EventLoopSizing.apply()
        let config: RuntimeConfig
        do {
            config = try RuntimeConfig(service: service, environment: ProcessInfo.processInfo.environment)
        } catch {
            let message = "\(service.name): configuration error: \(error)\n"
            _ = message.withCString { write(STDERR_FILENO, $0, strlen($0)) }
            exit(78)
        }
        Observability.bootstrap(traceContextInLogs: config.tracing.isOn)
        return ServiceRuntime(config: config)
    }
}

extension ServiceRuntime {
    /// `run(_:)` for an executable's top level: an error that stops the server — a port is
    /// taken, say (`ListenFailure` names which) — becomes one log line naming it and exit
    /// status 1, not a crash report.
    public func runOrExit(_ app: ServiceApplication) async {
        do {
            try await run(app)
        } catch {
            logger.critical("stopped", metadata: ["error": "\(error)"])
            exit(1)
        }
    }
}
