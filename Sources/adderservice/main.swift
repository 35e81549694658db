import AdderService
import ServiceRuntime

let runtime = ServiceRuntime.fromProcessEnvironment(service: .adderservice)
await runtime.runOrExit(buildApplication(runtime: runtime))
