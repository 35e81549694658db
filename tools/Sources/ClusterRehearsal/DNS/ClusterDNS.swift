import Foundation
import ProcessSupervision

/// The cluster DNS: BIND's `named` in a namespace of its own (address `plan.dnsAddress`, port 53)
/// serving the zone `cluster.local` as a dynamic zone, changed with `nsupdate` as endpoints come
/// and go — no restart, short TTLs (5 s, as CoreDNS's kubernetes plugin). Recursion is off: the
/// pods ask only for cluster names.
///
/// Why BIND rather than dnsmasq (which the local environment uses): dnsmasq reads its records at
/// start only, and a cluster's records change while everything runs.
actor ClusterDNS {
    static let ttl = 5
    let plan: NetworkPlan
    let folder: String
    private var process: SupervisedChild?
    private var published: [String: Set<DNSRecord>] = [:]

    init(plan: NetworkPlan, stateDirectory: String) {
        self.plan = plan
        folder = stateDirectory + "/dns"
    }

    /// Starts named; its output goes to `logFile` (it is chatty, and not the system's output).
    func start(logFile: String) async throws(RehearsalError) {
        guard FileManager.default.createFile(atPath: logFile, contents: nil) else {
            throw RehearsalError("cannot create the cluster DNS log \(logFile)")
        }
        let handle = Locked(FileHandle(forWritingAtPath: logFile))
        let log: @Sendable (String) -> Void = { text in handle.withLock { try? $0?.write(contentsOf: Data((text + "\n").utf8)) } }
        try writeConfiguration()
        try await PodNetwork.create(
            namespace: plan.dnsNamespace, hostInterface: plan.prefix + "vdns", address: plan.dnsAddress, plan: plan, resolver: nil
        )
        process = try ContainerProcess.start(
            namespace: plan.dnsNamespace, command: [try Command.path("named"), "-g", "-n", "1", "-c", folder + "/named.conf"],
            environment: Command.baseEnvironment, workingDirectory: folder, user: nil, name: "dns",
            write: log, onExit: { status in log("named ended: \(status)") }
        )
        let deadline = ContinuousClock.now + .seconds(15)
        while ContinuousClock.now < deadline {
            if (try? await Command.run(["nsupdate", folder + "/ping"], timeout: .seconds(2)))?.succeeded == true { return }
            try? await Task.sleep(for: .milliseconds(100))
        }
        throw RehearsalError("the cluster DNS (named) did not answer within 15 s")
    }

    func stop() {
        process?.signal(SIGTERM)
    }

    /// Makes the zone hold exactly `records`: each changed name+type is replaced as a whole, in
    /// one update message (BIND applies it atomically).
    func publish(_ records: Set<DNSRecord>) async throws(RehearsalError) {
        let wanted = Dictionary(grouping: records) { "\($0.name) \($0.type)" }.mapValues(Set.init)
        var lines = ["server \(plan.dnsAddress)", "zone cluster.local"]
        for key in Set(wanted.keys).union(published.keys).sorted() where wanted[key] != published[key] {
            lines.append("update delete \(key)")
            for record in (wanted[key] ?? []).sorted() {
                lines.append("update add \(record.name) \(Self.ttl) \(record.type) \(record.data)")
            }
        }
        guard lines.count > 2 else { return }
        let file = folder + "/update-\(UUID().uuidString.prefix(8))"
        do {
            try (lines + ["send", ""]).joined(separator: "\n").write(toFile: file, atomically: true, encoding: .utf8)
        } catch {
            throw RehearsalError("cannot write \(file): \(error)")
        }
        defer { try? FileManager.default.removeItem(atPath: file) }
        try await Command.check(["nsupdate", file])
        published = wanted
    }

    private func writeConfiguration() throws(RehearsalError) {
        let configuration = """
            options {
                directory "\(folder)";
                listen-on port 53 { any; };
                listen-on-v6 { none; };
                recursion no;
                dnssec-validation no;
                pid-file none;
            };
            zone "cluster.local" {
                type primary;
                file "\(folder)/cluster.local.db";
                // Only the node (the rehearsal itself, through the bridge) may change records.
                allow-update { \(plan.nodeAddress); };
            };
            """
        // SOA minimum (negative caching) as short as the records' TTL.
        let zone = """
            $TTL \(Self.ttl)
            @ IN SOA ns.dns.cluster.local. hostmaster.cluster.local. 1 \(Self.ttl) \(Self.ttl) \(Self.ttl) \(Self.ttl)
            @ IN NS ns.dns.cluster.local.
            ns.dns IN A \(plan.dnsAddress)

            """
        let ping = "server \(plan.dnsAddress)\nzone cluster.local\nprereq yxdomain ns.dns.cluster.local\nsend\n"
        do {
            try? FileManager.default.removeItem(atPath: folder)
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            try configuration.write(toFile: folder + "/named.conf", atomically: true, encoding: .utf8)
            try zone.write(toFile: folder + "/cluster.local.db", atomically: true, encoding: .utf8)
            try ping.write(toFile: folder + "/ping", atomically: true, encoding: .utf8)
        } catch {
            throw RehearsalError("cannot write the DNS configuration in \(folder): \(error)")
        }
    }
}
