import AuditService
import ServiceRuntime

let runtime = ServiceRuntime.fromProcessEnvironment(service: .auditservice)
await runtime.runOrExit(buildApplication(runtime: runtime))
