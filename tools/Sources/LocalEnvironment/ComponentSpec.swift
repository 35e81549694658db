/// One process the launcher starts and watches: the DNS server, a database, or a service.
public struct ComponentSpec: Sendable, Equatable {
    public enum Role: Int, Sendable, Comparable {
        // Start order is this order; stopping goes the other way, so the services drain while
        // their databases and DNS are still there, and Prometheus stops first, before it could
        // see the services go. Monitoring starts once the rest is ready (Supervisor.startMonitoring).
        case dns, database, service, monitoring
        public static func < (lhs: Role, rhs: Role) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    /// How to know the component is ready.
    public enum Readiness: Sendable, Equatable {
        /// `GET http://127.0.0.1:<port><path>` answers 200 (the services' `/readyz`).
        case http(port: Int, path: String)
        /// Something accepts TCP connections on <host>:<port> (redis, mongo, dnsmasq).
        case tcp(host: String, port: Int)
    }

    public var name: String
    public var role: Role
    public var executable: String
    public var arguments: [String]
    /// Variables set on top of the launcher's environment; `removed` are taken out of it.
    public var environment: [String: String]
    public var removedEnvironment: [String]
    public var workingDirectory: String
    public var ports: [PortUse]
    public var readiness: Readiness
}

/// Everything one run starts, worked out from fuge.yml and the options before anything starts.
public struct LaunchPlan: Sendable {
    public var fuge: FugeFile
    /// Entries with their ports after overrides; the DNS records are made from these.
    public var entries: [(name: String, ports: [FugeFile.NamedPort])]
    public var records: DNSRecords?
    public var components: [ComponentSpec]
    public var dnsHost: String
    public var dnsPort: Int
    public var stateDirectory: String
    public var projectRoot: String
    public var binDirectory: String?
    /// What the launcher prints before it starts: entries it leaves out, and why.
    public var notes: [String] = []

    /// Every port any component will use, for the check before start.
    public var portUses: [PortUse] { components.flatMap(\.ports) }
}
