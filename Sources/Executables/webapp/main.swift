import ServiceRuntime
import WebApp

// The webapp: the pages people use. Process-wide set-up first; a bad configuration value exits
// 78 naming the variable.
let runtime = ServiceMain.start(.webapp)
await runtime.runOrExit(try buildApplication(runtime: runtime))
