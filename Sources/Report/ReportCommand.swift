import ArgumentParser
import Discovery
import Logging
import Platform
import RedisAdapter

/// `report`: asks the eventservice for the event counts and prints them.
public struct ReportCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Print how often each page was visited, as counted by the eventservice.",
        discussion: """
            Finds Redis through DNS (_main._tcp.redis.<DNS_NAMESPACE>.<DNS_SUFFIX>): DNS_HOST and DNS_PORT \
            name the DNS server in local development, the system resolver is used otherwise.
            Authenticates as REDIS_USERNAME with REDIS_PASSWORD when they are set (both or neither).
            Exit status: 0 success, 3 Redis not found in DNS, 4 Redis unreachable or refusing the credentials, \
            5 no answer from the eventservice in time, 6 an answer that is not a summary, 78 a configuration \
            variable missing or unusable. Whatever happens, the report ends within --timeout plus one second.
            """
    )

    @Option(help: "Seconds by which the answer must have come (the report ends within this plus one second).")
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

    /// After the answer's deadline, what is left of the second: for taking the request back,
    /// printing, exiting, and the process start that came before the clock started.
    static let grace = Duration.milliseconds(700)

    public func run() async throws {
        let timeout = Duration.microseconds(Int64((timeout * 1e6).rounded(.up)))
        let progress = ReportProgress(timeout: timeout)
        let request = SummaryRequest(timeout: timeout)
        progress.watch(until: request.answerBy + Self.grace)
        do {
            let answer = try await fetchSummary(request, progress: progress, environment: ProcessInfo.processInfo.environment)
            let output = json ? answer : SummaryTable.render(try SummaryRequest.counts(from: answer))
            await progress.finish()
            print(output)
        } catch let failure as ReportFailure {
            await progress.finish()
            ReportFailure.printLine(failure)
            throw ExitCode(failure.exitCode)
        }
    }

    func fetchSummary(_ request: SummaryRequest, progress: ReportProgress, environment: [String: String]) async throws -> String {
        let connection = try await connect(until: request.answerBy + Self.grace, progress: progress, environment: environment)
        defer { connection.close() }
        do {
            return try await request.send(on: connection, progress: progress)
        } catch let error as RedisError {
            throw ReportFailure.redisUnreachable(error.description)
        }
    }

    /// Resolves Redis and connects to the first target that accepts, all before `stop`.
    private func connect(
        until stop: ContinuousClock.Instant, progress: ReportProgress, environment: [String: String]
    ) async throws -> RedisConnection {
        let targets: [ServiceTarget]
        let config: DiscoveryConfig, credentials: Credentials?
        do {
            let reader = EnvironmentReader(environment)
            config = try DiscoveryConfig(environment: reader)
            credentials = try reader.credentials("REDIS")
        } catch {
            throw ReportFailure.configuration(error)
        }
        do {
            targets = try await ServiceResolver(config: config, logger: Logger(label: "report")).resolve(.redis)
        } catch {
            throw ReportFailure.discovery("\(error)")
        }
        progress.enter(.connecting)
        var failures: [String] = []
        for target in targets {
            // Every call ends by `stop` on its own too: the socket timeouts are what is left.
            let left = max(.milliseconds(10), stop - .now)
            do {
                return try await RedisConnection.connect(
                    host: target.host, port: target.port, connectTimeout: min(.seconds(2), left), commandTimeout: left,
                    credentials: credentials
                )
            } catch  where error.kind == .authentication {
                // Every target holds the same users: another would refuse them too.
                throw ReportFailure.redisUnreachable(error.description)
            } catch {
                failures.append(error.message)
            }
        }
        throw ReportFailure.redisUnreachable(failures.isEmpty ? "DNS returned no targets" : failures.joined(separator: "; "))
    }
}
