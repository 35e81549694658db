import ArgumentParser
import Discovery
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Logging
import RedisAdapter

/// `report`: asks the eventservice for the event counts and prints them.
public struct ReportCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print how often each page was visited, as counted by the eventservice.",
        discussion: """
            Finds Redis through DNS (_main._tcp.redis.<DNS_NAMESPACE>.<DNS_SUFFIX>): DNS_HOST and DNS_PORT \
            name the DNS server in local development, the system resolver is used otherwise.
            Exit status: 0 success, 3 Redis not found in DNS, 4 Redis unreachable, 5 no answer in time, \
            6 an answer that is not a summary.
            """
    )

    @Option(help: "Seconds to wait for the answer.")
    public var timeout: Double = 5

    @Flag(help: "Print the eventservice's raw JSON answer instead of a table.")
    public var json = false

    public init() {}

    /// The executable's entry point (keeps ArgumentParser out of the thin `report` target).
    public static func runFromCommandLine() async {
        await main()
    }

    public func validate() throws {
        guard timeout > 0, timeout <= 3600 else { throw ValidationError("--timeout must be between 0 and 3600 seconds") }
    }

    public func run() async throws {
        do {
            let answer = try await fetchSummary(environment: ProcessInfo.processInfo.environment)
            print(json ? answer : SummaryTable.render(try SummaryRequest.counts(from: answer)))
        } catch let failure as ReportFailure {
            var line = "report: \(failure)\n"
            line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
            throw ExitCode(failure.exitCode)
        }
    }

    func fetchSummary(environment: [String: String]) async throws -> String {
        let request = SummaryRequest(timeout: .milliseconds(Int(timeout * 1000)))
        let connection = try await connect(environment: environment, commandTimeout: request.timeout + .seconds(2))
        defer { connection.close() }
        do {
            return try await request.send(on: connection)
        } catch let error as RedisError {
            throw ReportFailure.redisUnreachable(error.description)
        }
    }

    /// Resolves Redis and connects to the first target that accepts.
    private func connect(environment: [String: String], commandTimeout: Duration) async throws -> RedisConnection {
        let targets: [ServiceTarget]
        do {
            let config = try DiscoveryConfig(environment: EnvironmentReader(environment))
            targets = try await ServiceResolver(config: config, logger: Logger(label: "report")).resolve(.redis)
        } catch {
            throw ReportFailure.discovery("\(error)")
        }
        var failures: [String] = []
        for target in targets {
            do {
                return try await RedisConnection.connect(
                    host: target.host, port: target.port, connectTimeout: .seconds(2), commandTimeout: commandTimeout
                )
            } catch {
                failures.append(error.message)
            }
        }
        throw ReportFailure.redisUnreachable(failures.isEmpty ? "DNS returned no targets" : failures.joined(separator: "; "))
    }
}
