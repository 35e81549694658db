import AuditService
import ServiceRuntime

let runtime = ServiceMain.start(.auditservice)
await runtime.runOrExit(buildApplication(runtime: runtime))
