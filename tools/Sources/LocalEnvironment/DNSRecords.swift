/// The names the local DNS server answers — the same as the cluster's, as Fuge served them:
/// for every entry and each of its ports
///   SRV `_<port name>._tcp.<entry>.<namespace>.<suffix>` → `<entry>.<namespace>.<suffix>`:<port>
///   A   `<entry>.<namespace>.<suffix>` → 127.0.0.1
public struct DNSRecords: Sendable, Equatable {
    public struct Service: Sendable, Equatable {
        /// The SRV name, e.g. `_main._tcp.adderservice.micro.svc.cluster.local`.
        public var name: String
        /// The SRV target, which also gets the A record, e.g. `adderservice.micro.svc.cluster.local`.
        public var target: String
        public var port: Int
    }

    public var services: [Service]
    public var address: String
    public var suffix: String

    /// Records for `entries` with their (possibly overridden) ports.
    public init(entries: [(name: String, ports: [FugeFile.NamedPort])], namespace: String, suffix: String, address: String = "127.0.0.1") {
        self.address = address
        self.suffix = suffix
        services = entries.flatMap { entry in
            let target = "\(entry.name).\(namespace).\(suffix)"
            return entry.ports.map { Service(name: "_\($0.name)._tcp.\(target)", target: target, port: $0.number) }
        }
    }

    /// The distinct SRV targets, each answered with `address`.
    public var hosts: [String] {
        var seen: Set<String> = []
        return services.map(\.target).filter { seen.insert($0).inserted }
    }
}

/// dnsmasq (Debian's `dnsmasq-base`) as a small authoritative server for `DNSRecords`: nothing
/// else is read (no /etc/hosts, no resolv.conf, no config file) and names under the suffix that
/// are not ours get NXDOMAIN instead of being forwarded. A mature DNS server rather than a
/// hand-written one; the tests' `DNSServer` flags, but `--no-daemon` instead of
/// `--keep-in-foreground --user=…`: it also keeps dnsmasq from changing its user and group,
/// which would clear the parent-death signal that stops it when the launcher dies (and it
/// answers TCP queries itself instead of forking a process for each).
public enum Dnsmasq {
    public static func arguments(records: DNSRecords, listen: String, port: Int, ttl: Int = 5) -> [String] {
        var arguments = [
            "--no-daemon", "--no-resolv", "--no-hosts", "--no-poll", "--conf-file=/dev/null",
            "--pid-file=", "--bind-interfaces", "--listen-address=\(listen)", "--port=\(port)",
            "--local-ttl=\(ttl)", "--local=/\(records.suffix)/", "--log-facility=-",
        ]
        arguments += records.services.map { "--srv-host=\($0.name),\($0.target),\($0.port)" }
        arguments += records.hosts.map { "--host-record=\($0),\(records.address)" }
        return arguments
    }
}
