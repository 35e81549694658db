import Foundation
import ProcessSupervision

/// Debian's `prometheus` standing in for the `prom/prometheus` image of a fuge.yml entry, with the
/// configuration `prometheus.yml` beside fuge.yml (micro's finds every service through the local
/// DNS, as the services do).
///
/// The catch: Prometheus's DNS discovery asks only the system resolver — the name servers of
/// /etc/resolv.conf, always on port 53 (discovery/dns reads the file itself; there is no option
/// for a server or a port) — while the environment's names are answered on 127.0.0.1:53053. So
/// Prometheus runs in a mount namespace of its own (`unshare --mount`), where a resolv.conf of the
/// launcher's is bound over /etc/resolv.conf, naming a second dnsmasq with the same records on
/// port 53 of a loopback address of this launcher's own. The machine's resolver and every other
/// process are untouched, nothing listens where a system resolver might (127.0.0.1:53,
/// 127.0.0.53:53), and two launchers (their DNS ports differ) never share the address. The other
/// ways were worse: pointing the machine's /etc/resolv.conf at the launcher changes every
/// process's DNS; a port redirect (nftables) changes the machine's network for as long as it
/// runs and outlives a killed launcher; Prometheus in a network namespace of its own could not
/// reach the services on the host's loopback.
///
/// Both need root (a mount namespace, a port below 1024): without it the entry is left out, and
/// the launcher says so.
enum PrometheusStandIn {
    /// `127.53.<high byte>.<low byte>` of the DNS port: 53053 → 127.53.207.61. All of 127/8 is
    /// this machine's loopback on Linux, so nothing has to be configured to listen there.
    static func resolverAddress(dnsPort: Int) -> String {
        "127.53.\((dnsPort >> 8) & 0xFF).\(dnsPort & 0xFF)"
    }

    /// The prometheus process and its DNS server.
    static func components(
        entry: String, port: Int, plan: LaunchPlan, fugeFolder: String, tools: ToolLocator
    ) throws(LauncherError) -> [ComponentSpec] {
        guard let records = plan.records else {
            throw LauncherError("entry \(entry) finds the services through DNS: fuge_global needs `dns_enabled: true`")
        }
        let config = fugeFolder + "/prometheus.yml"
        guard FileManager.default.fileExists(atPath: config) else {
            throw LauncherError("entry \(entry): \(config) is missing (the configuration prometheus runs with here)")
        }
        let address = resolverAddress(dnsPort: plan.dnsPort)
        let folder = plan.stateDirectory + "/" + entry
        let prometheus = ComponentSpec(
            name: entry, role: .monitoring, executable: try tools.require("unshare", for: entry),
            arguments: [
                "--mount", "--propagation", "private", "/bin/sh", "-c", bindResolverScript, entry, address,
                try tools.require("mount", for: entry), try tools.require("prometheus", for: entry),
                "--config.file=" + config, "--storage.tsdb.path=" + folder + "/data",
                // The history of a day: enough to look back on a session, and the folder stays small.
                "--storage.tsdb.retention.time=1d", "--web.listen-address=127.0.0.1:\(port)",
            ],
            environment: [:], removedEnvironment: [], workingDirectory: folder,
            ports: [PortUse(entry: entry, port: port, transport: .tcp, host: "127.0.0.1")],
            readiness: .http(port: port, path: "/-/ready")
        )
        let dns = ComponentSpec(
            name: entry + "-dns", role: .dns, executable: try tools.require("dnsmasq", for: entry),
            arguments: Dnsmasq.arguments(records: records, listen: address, port: 53),
            environment: [:], removedEnvironment: [], workingDirectory: plan.stateDirectory,
            ports: [
                PortUse(entry: entry + "-dns", port: 53, transport: .udp, host: address),
                PortUse(entry: entry + "-dns", port: 53, transport: .tcp, host: address),
            ],
            readiness: .tcp(host: address, port: 53)
        )
        return [dns, prometheus]
    }

    /// Run by `sh -c` inside the new mount namespace, as `<script> <entry> <address> <mount>
    /// <prometheus> <arguments…>` in the entry's folder: writes the resolv.conf, binds it over
    /// /etc/resolv.conf (seen by this process only), then becomes Prometheus (same pid, so the
    /// launcher's signals and parent-death signal reach it). An nsswitch.conf of plain `files dns`
    /// is bound too: the scrapes look the targets' A records up through the C library, and a
    /// desktop's `mdns4_minimal [NOTFOUND=return]` would answer every name under .local (as
    /// svc.cluster.local is) from mDNS, never from DNS.
    static let bindResolverScript = """
        printf 'nameserver %s\\n' "$1" > resolv.conf && printf 'hosts: files dns\\n' > nsswitch.conf \
        && "$2" --bind resolv.conf /etc/resolv.conf \
        && { [ ! -e /etc/nsswitch.conf ] || "$2" --bind nsswitch.conf /etc/nsswitch.conf; } \
        && shift 2 && exec "$@"
        """

    /// Why the entry is left out when the launcher is not root.
    static func unprivilegedNote(entry: String, dnsPort: Int) -> String {
        "\(entry) is not started: it needs root, to give it the local DNS as its system resolver"
            + " (a mount namespace, and port 53 on \(resolverAddress(dnsPort: dnsPort))); run localenv as root to have it"
    }
}
