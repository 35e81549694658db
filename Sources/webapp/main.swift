import ServiceRuntime
import WebApp

// The webapp: the pages people use. A bad configuration value exits 78 naming the variable.
let runtime = ServiceRuntime.fromProcessEnvironment(service: .webapp)
await runtime.runOrExit(try buildApplication(runtime: runtime))
