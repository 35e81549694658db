import AdderService
import ServiceRuntime

let runtime = ServiceMain.start(.adderservice)
await runtime.runOrExit(buildApplication(runtime: runtime))
