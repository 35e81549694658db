import EventService
import ServiceRuntime

let runtime = ServiceRuntime.fromProcessEnvironment(service: .eventservice)
await runtime.runOrExit(makeEventServiceApplication(runtime: runtime))
