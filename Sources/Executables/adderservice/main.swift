import AdderService
import ServiceRuntime

let runtime = ServiceRuntime.fromProcessEnvironment(service: .adderservice)
await runtime.runOrExit(makeAdderApplication(runtime: runtime))
