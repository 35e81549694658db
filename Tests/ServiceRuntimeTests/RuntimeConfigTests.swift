import Discovery
import Logging
import ServiceRuntime
import Testing

@Suite struct RuntimeConfigTests {
    @Test func defaultsComeFromTheServiceTable() throws {
        let config = try RuntimeConfig(service: .adderservice, environment: [:])
        #expect(config.port == 8080)
        #expect(config.metricsPort == 9080)
        #expect(config.host == "0.0.0.0")
        #expect(config.logLevel == .info)
        #expect(config.discovery.mode == .system)
    }

    @Test func servicePortWinsOverPort() throws {
        let config = try RuntimeConfig(service: .webapp, environment: ["WEBAPP_SERVICE_PORT": "4100", "PORT": "5000"])
        #expect(config.port == 4100)
        #expect(try RuntimeConfig(service: .webapp, environment: ["PORT": "5000"]).port == 5000)
    }

    /// The admin port as Kubernetes names it for a Service port called `metrics`, then
    /// `METRICS_PORT`, then the table's.
    @Test func metricsPortVariableWinsOverMetricsPort() throws {
        let environment = ["WEBAPP_SERVICE_PORT_METRICS": "4100", "METRICS_PORT": "4200"]
        #expect(try RuntimeConfig(service: .webapp, environment: environment).metricsPort == 4100)
        #expect(try RuntimeConfig(service: .webapp, environment: ["METRICS_PORT": "4200"]).metricsPort == 4200)
        #expect(try RuntimeConfig(service: .webapp, environment: [:]).metricsPort == 4000)
    }

    /// The eventservice has no port of its own: PORT does not give it one.
    @Test func aServiceWithoutAPortOfItsOwnListensOnlyOnItsAdminPort() throws {
        let config = try RuntimeConfig(service: .eventservice, environment: ["PORT": "8082", "EVENTSERVICE_SERVICE_PORT": "8082"])
        #expect(config.port == nil)
        #expect(config.metricsPort == 9082)
    }

    @Test(arguments: [
        (["METRICS_PORT": "8080"], "METRICS_PORT"), (["PORT": "9080"], "PORT"),
        (["ADDERSERVICE_SERVICE_PORT": "7000", "ADDERSERVICE_SERVICE_PORT_METRICS": "7000"], "ADDERSERVICE_SERVICE_PORT_METRICS"),
    ])
    func theAdminPortMustDifferFromTheServicePort(environment: [String: String], named: String) {
        #expect {
            _ = try RuntimeConfig(service: .adderservice, environment: environment)
        } throws: { error in
            (error as? ConfigurationError)?.variable == named && "\(error)".contains("admin (metrics) port must differ")
        }
    }

    @Test func directDNSModeFromDNSHost() throws {
        let config = try RuntimeConfig(service: .auditservice, environment: ["DNS_HOST": "127.0.0.1", "LOG_LEVEL": "DEBUG"])
        #expect(config.discovery.mode == .direct(host: "127.0.0.1", port: 53053))
        #expect(config.logLevel == .debug)
    }

    @Test(arguments: [
        ("ADDERSERVICE_SERVICE_PORT", "abc"), ("ADDERSERVICE_SERVICE_PORT", "70000"), ("PORT", "-1"),
        ("ADDERSERVICE_SERVICE_PORT_METRICS", "0"), ("METRICS_PORT", "metrics"),
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
