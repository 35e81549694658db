import EventService
import ServiceRuntime

let runtime = ServiceRuntime.fromProcessEnvironment(service: .eventservice)
await runtime.runOrExit(buildApplication(runtime: runtime))
