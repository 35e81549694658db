import Foundation

/// `redis-server` on a free loopback port, no persistence: each test gets a clean one. With
/// `users`, it runs with the project's ACL file (`RedisUsers`): the default user is off.
public enum RedisServer {
    public static func start(port: Int = Ports.free(), users: RedisUsers? = nil) async throws -> ServerProcess {
        let directory = TestPaths.temporaryDirectory(prefix: "redis")
        return try await ServerProcess(
            name: "redis-\(port)", executable: try TestPaths.tool("redis-server"),
            arguments: [
                "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--dir", directory, "--protected-mode", "no",
            ] + (users.map { ["--aclfile", $0.aclFile] } ?? []),
            port: port
        )
    }
}

/// The MongoDB-wire-compatible `nx-27017` (SQLite-backed) on a free loopback port, in memory.
public enum MongoServer {
    public static func start(port: Int = Ports.free()) async throws -> ServerProcess {
        let directory = TestPaths.temporaryDirectory(prefix: "mongo")
        return try await ServerProcess(
            name: "nx-27017-\(port)", executable: try TestPaths.tool("nx-27017"),
            // Own pid and log files: with the defaults (/tmp/nx_27017.pid) a second server refuses
            // to start ("already running"), so parallel tests would collide.
            arguments: [
                "--data-dir", directory, "--host", "127.0.0.1", "-p", "\(port)",
                "--pid-file", directory + "/nx.pid", "--log-file", directory + "/nx.log",
            ],
            port: port, readyTimeout: .seconds(30)
        )
    }
}

/// One SRV record and the A record of its target.
public struct SRVRecord: Sendable {
    public let name: String
    public let target: String
    public let port: Int
    public let address: String

    /// `name` is the full SRV name (`_main._tcp.adderservice.micro.svc.cluster.local`).
    public init(name: String, target: String, port: Int, address: String = "127.0.0.1") {
        self.name = name
        self.target = target
        self.port = port
        self.address = address
    }

    /// `_main._tcp.<service>.micro.svc.cluster.local` → `<service>.micro.svc.cluster.local`
    /// (`address`) and `port`: the name our services look a dependency up under.
    public static func main(_ service: String, port: Int, address: String = "127.0.0.1") -> SRVRecord {
        SRVRecord(
            name: "_main._tcp.\(service).micro.svc.cluster.local", target: "\(service).micro.svc.cluster.local", port: port,
            address: address)
    }
}

/// `dnsmasq` answering only the records a test gives it, on a free loopback port (UDP and TCP).
public enum DNSServer {
    /// - Parameters:
    ///   - ttl: the TTL of every answer, in seconds.
    ///   - localDomain: names under it that are not given are answered NXDOMAIN, not forwarded.
    public static func start(
        records: [SRVRecord], ttl: Int = 5, localDomain: String = "svc.cluster.local", port: Int = Ports.free()
    ) async throws -> ServerProcess {
        try await ServerProcess(
            name: "dnsmasq-\(port)", executable: try TestPaths.tool("dnsmasq"),
            arguments: arguments(records: records, ttl: ttl, localDomain: localDomain, port: port, listen: "127.0.0.1"), port: port
        )
    }

    /// dnsmasq's command line for these records; also used to run it inside a network namespace.
    public static func arguments(records: [SRVRecord], ttl: Int, localDomain: String, port: Int, listen: String) -> [String] {
        var arguments = [
            "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-poll", "--conf-file=/dev/null",
            "--pid-file=", "--user=root", "--group=root", "--bind-interfaces", "--listen-address=\(listen)", "--port=\(port)",
            "--local-ttl=\(ttl)", "--local=/\(localDomain)/", "--log-facility=-",
        ]
        var hostRecords: [String] = []
        for record in records {
            arguments.append("--srv-host=\(record.name),\(record.target),\(record.port)")
            let hostRecord = "--host-record=\(record.target),\(record.address)"
            if !hostRecords.contains(hostRecord) { hostRecords.append(hostRecord) }
        }
        return arguments + hostRecords
    }
}
