import Logging
import NIOCore
import ServiceLifecycle

/// A service's HTTP servers — its own routes on its port, the operational routes on the admin
/// port — and the background services that run beside them.
public struct ServiceApplication: Sendable {
    struct Listener: Sendable {
        let settings: HTTPServer.Settings
        let responder: Responder
    }

    /// The service's own routes; nil when it has no port (the eventservice).
    let main: Listener?
    /// `/healthz`, `/readyz`, `/metrics`.
    let admin: Listener
    let services: [any Service]
    let logger: Logger

    /// The ports a running application listens on (0 in the configuration: the kernel's choice).
    public struct Ports: Sendable {
        /// The service's own port; nil when it has none.
        public let main: Int?
        /// The admin port.
        public let metrics: Int
    }

    /// The servers for one run: their ports and connections belong to that run.
    struct Servers {
        let main: HTTPServer?
        let admin: HTTPServer
        let services: [any Service]

        /// In the service group's order: the admin server first, so it stops last (services
        /// listed first stop last), then the background services, then the service's own server,
        /// which drains first.
        var ordered: [any Service] { [admin] + services + (main.map { [$0] } ?? []) }

        func ports() async throws -> Ports {
            let main = try await self.main?.boundPort.futureResult.get()
            return Ports(main: main, metrics: try await admin.boundPort.futureResult.get())
        }
    }

    /// `closeNotice` applies to the service's own port: the admin port's callers (probes,
    /// scrapes) need none.
    func makeServers(closeNotice: Duration = .zero) -> Servers {
        Servers(
            main: main.map { listener in
                var settings = listener.settings
                settings.closeNotice = closeNotice
                return HTTPServer(settings: settings, responder: listener.responder)
            },
            admin: HTTPServer(settings: admin.settings, responder: admin.responder),
            services: services
        )
    }

    /// Runs the application on its configured ports (0: any free one) while `body` gets the
    /// bound ports, then shuts it down gracefully within the drain budget, without the close
    /// notice. For tests and benchmarks in process.
    public func withRunning<T: Sendable>(_ body: @Sendable (Ports) async throws -> T) async throws -> T {
        let servers = makeServers()
        var configuration = ServiceGroupConfiguration(services: servers.ordered, logger: logger)
        configuration.maximumGracefulShutdownDuration = ServiceRuntime.drainLimit
        let group = ServiceGroup(configuration: configuration)
        return try await withThrowingTaskGroup(of: T?.self) { tasks in
            tasks.addTask {
                try await group.run()
                return nil
            }
            let result: T
            do {
                result = try await body(try await servers.ports())
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
