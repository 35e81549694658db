import AdderService
import ServiceRuntime

let runtime = ServiceRuntime.fromProcessEnvironment(service: .adderservice)
try await runtime.run(makeAdderApplication(runtime: runtime))
