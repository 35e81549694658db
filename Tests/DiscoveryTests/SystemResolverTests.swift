import Discovery
import Foundation
import TestSupport
import Testing

/// System-resolver mode (DNS_HOST unset), through the `discover` executable run inside a network
/// namespace whose resolv.conf points at a dnsmasq on 127.0.0.1:53 in the same namespace.
///
/// Why a namespace and not an injectable resolv.conf path: glibc's res_ninit reads only
/// /etc/resolv.conf, so a path option would test a code path production never takes. `ip netns
/// exec` bind-mounts /etc/netns/<name>/resolv.conf over /etc/resolv.conf for the command, exactly
/// as a pod gets its own resolv.conf, and the namespace's own loopback lets dnsmasq take port 53
/// without touching the host. Needs root; without it the test fails saying so (CI runs as root).
@Suite(.serialized, .stopsServers) struct SystemResolverTests {
    @Test func discoverInAPodLikeNamespaceUsesResolvConf() async throws {
        try await withPod(records: DNSFixtures.records(service: "adderservice", addresses: ["10.20.0.1", "10.20.0.2"])) { pod in
            let result = try await pod.discover(["adderservice"])
            #expect(result.status == 0, "discover failed: \(result.standardError)")
            #expect(result.standardOutput == "10.20.0.1:8080\n10.20.0.2:8080\n")
        }
    }

    @Test func discoverUsesThePortOptionAndWebappsHTTPPortName() async throws {
        let records = [
            SRVRecord(
                name: DNSFixtures.srvName("webapp", port: "http"), target: "webapp-0.micro.svc.cluster.local", port: 3000,
                address: "10.21.0.1"),
            SRVRecord(
                name: DNSFixtures.srvName("webapp", port: "metrics"), target: "webapp-0.micro.svc.cluster.local", port: 9100,
                address: "10.21.0.1"),
        ]
        try await withPod(records: records) { pod in
            let http = try await pod.discover(["webapp"])
            let metrics = try await pod.discover(["webapp", "--port", "metrics"])
            #expect(http.standardOutput == "10.21.0.1:3000\n", "\(http.standardError)")
            #expect(metrics.standardOutput == "10.21.0.1:9100\n", "\(metrics.standardError)")
        }
    }

    @Test func discoverFailsNamingTheQueryAndTheSystemResolver() async throws {
        try await withPod(records: DNSFixtures.records(service: "adderservice", addresses: ["10.22.0.1"])) { pod in
            let result = try await pod.discover(["nosuchservice"])
            #expect(result.status != 0)
            #expect(result.standardOutput.isEmpty)
            #expect(result.standardError.contains("_main._tcp.nosuchservice.micro.svc.cluster.local"))
            #expect(result.standardError.contains("system resolver (nameserver 127.0.0.1:53)"), "\(result.standardError)")
        }
    }

    @Test func discoverInDirectModeReportsABadDNSPort() async throws {
        let result = try await CommandResult.execute(
            try TestPaths.builtExecutable("discover"), ["adderservice"], environment: ["DNS_HOST": "127.0.0.1", "DNS_PORT": "dns"])
        #expect(result.status != 0)
        #expect(result.standardError.contains("DNS_PORT"))
    }
}

/// A namespace with a dnsmasq on its 127.0.0.1:53 and resolv.conf pointing at it.
private struct Pod {
    let namespace: NetworkNamespace
    let discoverPath: String

    /// Runs `discover` in the namespace with DNS_HOST unset (system-resolver mode).
    func discover(_ arguments: [String]) async throws -> CommandResult {
        let environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("DNS_") }
        return try await namespace.execute(discoverPath, arguments, environment: environment)
    }
}

/// Creates the pod, runs `body`, and always stops dnsmasq and deletes the namespace and its
/// /etc/netns folder, whatever `body` does.
private func withPod(records: [SRVRecord], _ body: (Pod) async throws -> Void) async throws {
    let discoverPath = try TestPaths.builtExecutable("discover")
    try await NetworkNamespace.with(resolvConf: "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n") { namespace in
        let inNamespace = namespace.execArguments(
            try TestPaths.tool("dnsmasq"),
            DNSServer.arguments(records: records, ttl: 5, localDomain: DNSFixtures.suffix, port: 53, listen: "127.0.0.1")
        )
        // Port 53 is in the namespace, not on the host: readiness is checked from inside it.
        let dns = try await ServerProcess(
            name: "dnsmasq-\(namespace.name)", executable: inNamespace.executable, arguments: inNamespace.arguments, port: 53,
            waitForPort: false
        )
        do {
            try await waitUntilAnswering(namespace, name: records.first?.name ?? "", log: dns)
            try await body(Pod(namespace: namespace, discoverPath: discoverPath))
        } catch {
            await dns.stop()
            throw error
        }
        await dns.stop()
    }
}

private func waitUntilAnswering(_ namespace: NetworkNamespace, name: String, log dns: ServerProcess) async throws {
    let dig = try TestPaths.tool("dig")
    for _ in 0..<100 {
        let probe = try await namespace.execute(dig, ["+short", "+time=1", "+tries=1", "@127.0.0.1", "-p", "53", "SRV", name])
        if probe.status == 0, !probe.standardOutput.isEmpty { return }
        if !dns.isRunning { break }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestSupportError("dnsmasq in \(namespace.name) is not answering:\n\(dns.log())")
}
