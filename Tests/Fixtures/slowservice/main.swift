// A test fixture, not a service: the ServiceRuntime with one slow route, so the runtime tests can
// send SIGTERM while a request is in flight and watch it finish before the process exits.
import Discovery
import Hummingbird
import ServiceRuntime

let runtime = ServiceRuntime.fromProcessEnvironment(service: MicroService(name: "slowservice", port: 8099))
let router = runtime.makeRouter()
router.get("/slow/:ms") { _, context in
    let milliseconds = context.parameters.get("ms", as: Int.self) ?? 1000
    try await Task.sleep(for: .milliseconds(milliseconds))
    return "done after \(milliseconds) ms"
}
await runtime.runOrExit(runtime.makeApplication(router: router))
