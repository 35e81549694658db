import EventService
import ServiceRuntime

let runtime = ServiceRuntime.fromProcessEnvironment(service: .eventservice)
try await runtime.run(makeEventServiceApplication(runtime: runtime))
