// A test fixture, not a service: the ServiceRuntime with one slow route, so the runtime tests can
// send SIGTERM while a request is in flight and watch it finish before the process exits.
import Discovery
import ServiceRuntime

struct SlowRoutes: Routes {
    func route(_ request: Request) -> Routing {
        guard request.segments.count == 2, request.segments[0] == "slow" else { return .notFound }
        return .get(
            request,
            .task("/slow/:ms") { request in
                let milliseconds = Int(request.segments[1]) ?? 1000
                try await Task.sleep(for: .milliseconds(milliseconds))
                return .text("done after \(milliseconds) ms")
            })
    }
}

let runtime = ServiceMain.start(MicroService(name: "slowservice", port: 8099, metricsPort: 9099))
await runtime.runOrExit(runtime.makeApplication(routes: SlowRoutes()))
