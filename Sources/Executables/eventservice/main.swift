import EventService
import ServiceRuntime

let runtime = ServiceMain.start(.eventservice)
await runtime.runOrExit(buildApplication(runtime: runtime))
