import Discovery
import Logging
import ServiceLifecycle
import ServiceTracing

/// A tracer exporting to a receiver of the test's own (`OTLPReceiver`) every 20 ms, for `body`'s
/// duration; its exporter runs as a service does and is shut down after `body`.
public func withExportingTracer(
    service: String, _ body: (MicroTracer, OTLPReceiver) async throws -> Void
) async throws {
    let receiver = try await OTLPReceiver()
    let environment = ["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "20"]
    let config = try TracingConfig(defaultServiceName: service, environment: EnvironmentReader(environment))
    guard let backend = TracingBackend(config: config, logger: Logger(label: service)), let exporter = backend.exporter else {
        throw TestSupportError("an OTLP endpoint gave no exporter")
    }
    let group = ServiceGroup(services: [exporter], logger: Logger(label: service))
    try await withThrowingTaskGroup { tasks in
        tasks.addTask { try await group.run() }
        do {
            try await body(backend.tracer, receiver)
        } catch {
            await group.triggerGracefulShutdown()
            throw error
        }
        await group.triggerGracefulShutdown()
        try await tasks.waitForAll()
    }
    await receiver.stop()
}
