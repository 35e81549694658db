import Discovery
import Foundation

extension ServiceRuntime {
    /// The runtime from this process's environment, or — when a variable holds a bad value — a
    /// one-line message on stderr naming it and exit status 78 (EX_CONFIG), before anything starts.
    public static func fromProcessEnvironment(service: MicroService) -> ServiceRuntime {
        do {
            return try ServiceRuntime(service: service, environment: ProcessInfo.processInfo.environment)
        } catch {
            FileHandle.standardError.write(Data("\(service.name): configuration error: \(error)\n".utf8))
            exit(78)
        }
    }
}
