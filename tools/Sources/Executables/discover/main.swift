// discover: resolve a micro service the way the services do, from inside a pod or the local
// environment. `discover adderservice` prints one `host:port` per target; a failed lookup prints
// the DiscoveryError (which names the query and the DNS server) and exits non-zero.
import ArgumentParser
import Discovery
import Foundation
import Logging

@main
struct Discover: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Resolve a micro service through DNS SRV and A records.",
        discussion: """
            Uses DNS_HOST and DNS_PORT (direct mode) when DNS_HOST is set, otherwise the system \
            resolver (/etc/resolv.conf); DNS_NAMESPACE and DNS_SUFFIX build the name.
            """
    )

    @Argument(help: "The service name, e.g. adderservice.")
    var service: String

    @Option(
        help:
            "The SRV port name, e.g. metrics (default: the service's first port in the service table: 'http' for webapp, 'metrics' for eventservice, else 'main')."
    )
    var port: String?

    func run() async throws {
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var logger = Logger(label: "discover")
        logger.logLevel = .warning
        let config: DiscoveryConfig
        do {
            config = try DiscoveryConfig(environment: EnvironmentReader(ProcessInfo.processInfo.environment))
        } catch {
            throw fail(error)
        }
        let portName = port ?? MicroService.all.first { $0.name == service }?.ports.first?.name ?? "main"
        let resolver = ServiceResolver(config: config, logger: logger)
        do {
            for target in try await resolver.resolve(service: service, port: portName) {
                print(target)
            }
        } catch {
            throw fail(error)
        }
    }
}

/// Prints the error's own message (no usage text) and exits with status 1.
func fail(_ error: any Error) -> ExitCode {
    FileHandle.standardError.write(Data("discover: \(error)\n".utf8))
    return ExitCode.failure
}
