import Discovery
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a report failed: one line for stderr and the exit status.
enum ReportFailure: Error, Equatable, CustomStringConvertible {
    /// DNS could not say where Redis is.
    case discovery(String)
    /// Redis was found but no target accepted a connection.
    case redisUnreachable(String)
    /// The request was sent but no summary came back in time (is the eventservice running?).
    case noAnswer(timeout: Duration)
    /// Something answered, but not with a JSON object of counts.
    case badAnswer(String)
    /// A configuration variable is unusable (a half-given pair of credentials, a bad DNS_PORT).
    case configuration(ConfigurationError)

    /// Writes `report: <failure>` as one line on stderr, unbuffered.
    static func printLine(_ failure: ReportFailure) {
        var line = "report: \(failure)\n"
        line.withUTF8 { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    var exitCode: Int32 {
        switch self {
        case .discovery: 3
        case .redisUnreachable: 4
        case .noAnswer: 5
        case .badAnswer: 6
        case .configuration: 78  // EX_CONFIG, as the services exit on a bad configuration
        }
    }

    var description: String {
        let text =
            switch self {
            case .discovery(let detail): "cannot find Redis: \(detail)"
            case .redisUnreachable(let detail): "cannot reach Redis: \(detail)"
            case .noAnswer(let timeout):
                "no answer from the eventservice within \(SummaryRequest.seconds(timeout)) s (is it running?)"
            case .badAnswer(let answer): "the eventservice answered something that is not a summary: \(answer.prefix(200))"
            case .configuration(let error): "configuration error: \(error)"
            }
        // Exactly one line on stderr, whatever the details contain.
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
