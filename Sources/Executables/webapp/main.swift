import ServiceRuntime
import WebApp

// The webapp: the pages people use. A bad configuration value exits 78 naming the variable.
let runtime = ServiceRuntime.fromProcessEnvironment(service: .webapp)
let app = try WebAppAssembly.makeApplication(
    runtime: runtime,
    targets: .discovered(by: runtime.resolver),
    eventSink: RedisEventSink.discovered(by: runtime.resolver, logger: runtime.logger)
)
await runtime.runOrExit(app)
