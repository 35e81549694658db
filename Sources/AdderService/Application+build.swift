import ServiceRuntime

/// The adderservice: the runtime's server with the /add route.
public func buildApplication(runtime: ServiceRuntime) -> ServiceApplication {
    runtime.makeApplication(routes: AdderRoutes())
}
