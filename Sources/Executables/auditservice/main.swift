// auditservice: stores calculations in MongoDB, found through discovery. See AuditService.
import AuditService
import ServiceRuntime

let runtime = ServiceRuntime.fromProcessEnvironment(service: .auditservice)
let database = AuditDatabase(logger: runtime.logger, locate: AuditService.discoveredMongo(runtime.resolver))
await runtime.runOrExit(AuditService.makeApplication(runtime: runtime, database: database))
