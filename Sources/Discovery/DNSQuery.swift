import CResolv
import Synchronization

/// What one lookup found: every target, how long the answer may be cached (seconds), and the
/// SRV targets left out because their A lookup failed (for a warning).
struct DNSAnswer: Sendable {
    let targets: [ServiceTarget]
    let ttl: UInt32
    var skipped: [String] = []
}

/// The server a resolver asks. In direct mode `DNS_HOST` may be a name (`localhost`): it is turned
/// into an IPv4 address once, on first use, because libresolv only takes addresses.
final class DNSServerAddress: Sendable {
    let mode: DiscoveryConfig.Mode
    private let resolvedHost = Mutex<String?>(nil)

    init(_ mode: DiscoveryConfig.Mode) {
        self.mode = mode
    }

    /// How messages name the server in direct mode ("127.0.0.1:53053"); nil in system mode,
    /// where the nameservers are only known once resolv.conf has been read.
    var directLabel: String? {
        guard case .direct(let host, let port) = mode else { return nil }
        return "\(host):\(port)"
    }

    var label: String { directLabel ?? "system resolver" }

    /// The IPv4 address of `DNS_HOST` (blocking: getaddrinfo). Nil in system mode.
    func directIPv4() -> Result<String, LookupFailure>? {
        guard case .direct(let host, _) = mode else { return nil }
        if let known = resolvedHost.withLock({ $0 }) { return .success(known) }
        var address = [CChar](repeating: 0, count: Int(CRESOLV_MAX_ADDRESS))
        var error = [CChar](repeating: 0, count: Int(CRESOLV_MAX_DETAIL))
        guard cresolv_ipv4_of(host, &address, &error, Int(CRESOLV_MAX_DETAIL)) == 0 else {
            return .failure(LookupFailure(kind: .other, detail: "cannot resolve DNS_HOST \(host) to an IPv4 address: \(text(error))"))
        }
        let ipv4 = text(address)
        resolvedHost.withLock { $0 = ipv4 }
        return .success(ipv4)
    }
}

/// One blocking SRV-then-A lookup through libresolv. Run it on a thread pool, never an event loop.
struct DNSQuery {
    let server: DNSServerAddress
    let options: ResolverOptions

    func lookUp(srvName: String) -> Result<DNSAnswer, DiscoveryError> {
        let context: OpaquePointer
        switch open() {
        case .success(let opened): context = opened
        case .failure(let failure): return .failure(error(srvName, server.label, failure.kind, failure.detail))
        }
        defer { cresolv_close(context) }
        let serverLabel = server.directLabel ?? "system resolver (\(describeServers(context)))"

        var srv = cresolv_query_srv(context, srvName)
        defer { cresolv_records_free(&srv) }
        guard srv.status == CRESOLV_OK, let srvRecords = srv.srv else {
            return .failure(error(srvName, serverLabel, kind(srv.status), "SRV: " + text(detailOf: srv)))
        }
        let services = (0..<Int(srv.count)).map { SRVAnswer(srvRecords[$0]) }.sorted()
        return addresses(of: services, context: context).mapError { error(srvName, serverLabel, $0.kind, $0.detail) }
    }

    /// A records of every SRV target. Targets whose A lookup fails are left out; only when none
    /// resolves is it an error (the first failure).
    private func addresses(of services: [SRVAnswer], context: OpaquePointer) -> Result<DNSAnswer, LookupFailure> {
        var targets: [ServiceTarget] = []
        var ttl = services.map(\.ttl).min() ?? 0
        var failures: [LookupFailure] = []
        var known: [String: [cresolv_a]] = [:]
        for service in services {
            let found: [cresolv_a]
            if let cached = known[service.target] {
                found = cached
            } else {
                switch queryA(service.target, context: context) {
                case .success(let records): found = records
                case .failure(let failure):
                    failures.append(failure)
                    found = []
                }
                known[service.target] = found
            }
            for record in found {
                ttl = min(ttl, record.ttl)
                let target = ServiceTarget(host: text(tuple: record.address), port: Int(service.port))
                if !targets.contains(target) { targets.append(target) }
            }
        }
        if targets.isEmpty, let firstFailure = failures.first { return .failure(firstFailure) }
        return .success(DNSAnswer(targets: targets, ttl: ttl, skipped: failures.map(\.detail)))
    }

    private func queryA(_ name: String, context: OpaquePointer) -> Result<[cresolv_a], LookupFailure> {
        var records = cresolv_query_a(context, name)
        defer { cresolv_records_free(&records) }
        guard records.status == CRESOLV_OK, let a = records.a else {
            return .failure(LookupFailure(kind: kind(records.status), detail: "A \(name): " + text(detailOf: records)))
        }
        return .success((0..<Int(records.count)).map { a[$0] }.sorted { text(tuple: $0.address) < text(tuple: $1.address) })
    }

    private func open() -> Result<OpaquePointer, LookupFailure> {
        var message = [CChar](repeating: 0, count: Int(CRESOLV_MAX_DETAIL))
        var ipv4: String?
        var port = 0
        switch server.directIPv4() {
        case nil: break
        case .failure(let failure): return .failure(failure)
        case .success(let address):
            ipv4 = address
            if case .direct(_, let directPort) = server.mode { port = directPort }
        }
        let timeout = Int32(clamping: options.timeoutSeconds)
        let attempts = Int32(clamping: options.attempts)
        let context = cresolv_open(ipv4, UInt16(clamping: port), timeout, attempts, &message, Int(CRESOLV_MAX_DETAIL))
        guard let context else { return .failure(LookupFailure(kind: .other, detail: text(message))) }
        return .success(context)
    }

    private func describeServers(_ context: OpaquePointer) -> String {
        var buffer = [CChar](repeating: 0, count: Int(CRESOLV_MAX_SERVERS))
        cresolv_describe_servers(context, &buffer, Int(CRESOLV_MAX_SERVERS))
        return text(buffer)
    }

    private func kind(_ status: cresolv_status) -> DiscoveryError.Kind {
        switch status {
        case CRESOLV_NOT_FOUND: .notFound
        case CRESOLV_NO_ANSWER: .noAnswer
        case CRESOLV_TIMEOUT: .timeout
        case CRESOLV_REFUSED, CRESOLV_SERVER_FAILURE: .serverFailure
        case CRESOLV_MALFORMED: .malformedAnswer
        default: .other
        }
    }

    private func error(_ query: String, _ server: String, _ kind: DiscoveryError.Kind, _ detail: String) -> DiscoveryError {
        DiscoveryError(kind: kind, query: query, server: server, detail: detail)
    }
}

/// A failed step inside one lookup, before it is named with the query and server.
struct LookupFailure: Error {
    let kind: DiscoveryError.Kind
    let detail: String
}

/// One SRV answer in Swift form, ordered by priority (lowest first), then weight (highest first),
/// then name, so every lookup lists targets in the same order.
struct SRVAnswer: Comparable {
    let priority: UInt16
    let weight: UInt16
    let port: UInt16
    let ttl: UInt32
    let target: String

    init(_ record: cresolv_srv) {
        priority = record.priority
        weight = record.weight
        port = record.port
        ttl = record.ttl
        target = text(tuple: record.target)
    }

    static func < (lhs: SRVAnswer, rhs: SRVAnswer) -> Bool {
        (lhs.priority, rhs.weight, lhs.target, lhs.port) < (rhs.priority, lhs.weight, rhs.target, rhs.port)
    }
}

/// A NUL-terminated C string held in a fixed-size C array (imported as a tuple) or a buffer.
func text<Storage>(tuple storage: Storage) -> String {
    withUnsafeBytes(of: storage) { bytes in
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}

func text(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map(UInt8.init(bitPattern:)), as: UTF8.self)
}

func text(detailOf records: cresolv_records) -> String {
    text(tuple: records.detail)
}
