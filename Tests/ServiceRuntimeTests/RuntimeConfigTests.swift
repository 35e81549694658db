import Discovery
import Logging
import ServiceRuntime
import Testing

@Suite struct RuntimeConfigTests {
    @Test func defaultsComeFromTheServiceTable() throws {
        let config = try RuntimeConfig(service: .adderservice, environment: [:])
        #expect(config.port == 8080)
        #expect(config.host == "0.0.0.0")
        #expect(config.logLevel == .info)
        #expect(config.discovery.mode == .system)
    }

    @Test func servicePortWinsOverPort() throws {
        let config = try RuntimeConfig(service: .webapp, environment: ["WEBAPP_SERVICE_PORT": "4000", "PORT": "5000"])
        #expect(config.port == 4000)
        #expect(try RuntimeConfig(service: .webapp, environment: ["PORT": "5000"]).port == 5000)
    }

    @Test func directDNSModeFromDNSHost() throws {
        let config = try RuntimeConfig(service: .auditservice, environment: ["DNS_HOST": "127.0.0.1", "LOG_LEVEL": "DEBUG"])
        #expect(config.discovery.mode == .direct(host: "127.0.0.1", port: 53053))
        #expect(config.logLevel == .debug)
    }

    @Test(arguments: [
        ("ADDERSERVICE_SERVICE_PORT", "abc"), ("ADDERSERVICE_SERVICE_PORT", "70000"), ("PORT", "-1"),
        ("LOG_LEVEL", "loud"), ("DNS_PORT", "x"), ("DNS_NAMESPACE", "a b"),
    ])
    func badValueNamesTheVariable(variable: String, value: String) {
        #expect {
            _ = try RuntimeConfig(service: .adderservice, environment: [variable: value])
        } throws: { error in
            (error as? ConfigurationError)?.variable == variable
                && "\(error)".contains(variable) && "\(error)".contains(value)
        }
    }
}
