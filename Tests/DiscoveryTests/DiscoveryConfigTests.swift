import Discovery
import Testing

@Suite struct DiscoveryConfigTests {
    private func config(_ environment: [String: String]) throws(ConfigurationError) -> DiscoveryConfig {
        try DiscoveryConfig(environment: EnvironmentReader(environment))
    }

    @Test func withoutDNSHostUsesTheSystemResolverAndDefaults() throws {
        let config = try config([:])
        #expect(config.mode == .system)
        #expect(config.namespace == "micro")
        #expect(config.suffix == "svc.cluster.local")
        #expect(config.srvName(.adderservice) == "_main._tcp.adderservice.micro.svc.cluster.local")
        #expect(config.srvName(.webapp) == "_http._tcp.webapp.micro.svc.cluster.local")
    }

    @Test func dnsHostSelectsDirectModeOnTheDefaultPort() throws {
        #expect(try config(["DNS_HOST": "localhost"]).mode == .direct(host: "localhost", port: 53053))
        #expect(try config(["DNS_HOST": "10.0.0.53", "DNS_PORT": "5353"]).mode == .direct(host: "10.0.0.53", port: 5353))
    }

    @Test func emptyDNSHostMeansUnset() throws {
        #expect(try config(["DNS_HOST": "", "DNS_PORT": "5353"]).mode == .system)
    }

    @Test func namespaceAndSuffixBuildTheNames() throws {
        let config = try config(["DNS_NAMESPACE": "staging", "DNS_SUFFIX": "example.internal"])
        #expect(config.srvName(service: "auditservice", port: "main") == "_main._tcp.auditservice.staging.example.internal")
    }

    @Test(arguments: ["abc", "0", "65536", "-1", "53 "])
    func badDNSPortIsAnErrorNamingIt(value: String) {
        #expect {
            try config(["DNS_HOST": "127.0.0.1", "DNS_PORT": value])
        } throws: { error in
            guard let error = error as? ConfigurationError else { return false }
            return error.variable == "DNS_PORT" && error.value == value && "\(error)".contains("DNS_PORT")
        }
    }

    @Test func badDNSPortIsAnErrorEvenInSystemMode() {
        #expect(throws: ConfigurationError.self) { try config(["DNS_PORT": "port"]) }
    }

    @Test(arguments: [("DNS_SUFFIX", ".svc.cluster.local"), ("DNS_SUFFIX", "svc cluster"), ("DNS_NAMESPACE", "micro_ns")])
    func badNamePartsAreErrorsNamingTheVariable(variable: String, value: String) {
        #expect {
            try config([variable: value])
        } throws: { error in
            (error as? ConfigurationError)?.variable == variable
        }
    }
}
