import Logging
import NIOCore
import ServiceLifecycle

/// A service's HTTP server and the background services that run beside it.
public struct ServiceApplication: Sendable {
    let settings: HTTPServer.Settings
    let responder: Responder
    let services: [any Service]
    let logger: Logger

    /// A server for one run: its port and connections belong to that run.
    func makeServer(closeNotice: Duration = .zero) -> HTTPServer {
        var settings = settings
        settings.closeNotice = closeNotice
        return HTTPServer(settings: settings, responder: responder)
    }

    /// Runs the application on its configured port (0: any free one) while `body` gets the bound
    /// port, then shuts it down gracefully within the drain budget, without the close notice.
    /// For tests and benchmarks in process.
    public func withRunning<T: Sendable>(_ body: @Sendable (Int) async throws -> T) async throws -> T {
        let server = makeServer()
        var configuration = ServiceGroupConfiguration(services: services + [server], logger: logger)
        configuration.maximumGracefulShutdownDuration = ServiceRuntime.drainLimit
        let group = ServiceGroup(configuration: configuration)
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            let result: T
            do {
                result = try await body(try await server.boundPort.futureResult.get())
            } catch {
                await group.triggerGracefulShutdown()
                throw error
            }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        }
    }
}
