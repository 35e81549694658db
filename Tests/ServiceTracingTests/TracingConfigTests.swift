import Discovery
import ServiceTracing
import Testing

@Suite struct TracingConfigTests {
    func config(_ environment: [String: String]) throws -> TracingConfig {
        try TracingConfig(service: .webapp, environment: environment)
    }

    @Test func nothingSetMeansNoTracing() throws {
        let config = try config([:])
        #expect(config.export == nil)
        #expect(config.serviceName == "webapp")
    }

    @Test func theEndpointTurnsTracingOnAndGetsTheSignalPath() throws {
        #expect(
            try config(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"]).export
                == .otlp(OTLPEndpoint(host: "collector", port: 4318, path: "/v1/traces")))
        #expect(
            try config(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector/base/"]).export
                == .otlp(OTLPEndpoint(host: "collector", port: 80, path: "/base/v1/traces")))
        #expect(
            try config(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://[::1]:9"]).export
                == .otlp(OTLPEndpoint(host: "::1", port: 9, path: "/v1/traces")))
        // The per-signal variable is used as it is, and wins.
        let both = ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:1", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:2/spans"]
        #expect(try config(both).export == .otlp(OTLPEndpoint(host: "b", port: 2, path: "/spans")))
        #expect(
            try config(["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://b:2"]).export == .otlp(OTLPEndpoint(host: "b", port: 2, path: "/")))
    }

    @Test func theExporterVariableAlsoTurnsItOn() throws {
        #expect(try config(["OTEL_TRACES_EXPORTER": "otlp"]).export == .otlp(.default))
        #expect(try config(["OTEL_TRACES_EXPORTER": "none"]).export == .unexported)
        #expect(try config(["OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:1"]).export == .unexported)
    }

    @Test func disabledWinsOverEverything() throws {
        let environment = ["OTEL_SDK_DISABLED": "TRUE", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://a:1", "OTEL_TRACES_EXPORTER": "otlp"]
        #expect(try config(environment).export == nil)
        #expect(try config(["OTEL_SDK_DISABLED": "false", "OTEL_TRACES_EXPORTER": "none"]).export == .unexported)
    }

    @Test func serviceNameSamplerAndBatch() throws {
        let config = try config([
            "OTEL_SERVICE_NAME": "web-front", "OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.25",
            "OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_BSP_MAX_QUEUE_SIZE": "100", "OTEL_EXPORTER_OTLP_TIMEOUT": "1500",
        ])
        #expect(config.serviceName == "web-front")
        #expect(config.sampler == .parentBased(root: .ratio(0.25)))
        #expect(config.batch.scheduleDelay == .milliseconds(200))
        #expect(config.batch.maxQueueSize == 100)
        #expect(config.batch.maxExportBatchSize == 100)
        #expect(config.batch.exportTimeout == .milliseconds(1500))
        #expect(try self.config(["OTEL_TRACES_SAMPLER": "always_off"]).sampler == Sampler(root: .never, followsParent: false))
        #expect(try self.config([:]).sampler == .parentBased(root: .always))
    }

    @Test(arguments: [
        ("OTEL_SDK_DISABLED", "yes"),
        ("OTEL_TRACES_EXPORTER", "jaeger"),
        ("OTEL_TRACES_EXPORTER", "otlp,console"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:0"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:99999"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://:4318"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://col lector"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector/a b"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "ftp://collector"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/json"),
        ("OTEL_TRACES_SAMPLER", "xray"),
        ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
        ("OTEL_TRACES_SAMPLER_ARG", "half"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "0"),
        ("OTEL_BSP_SCHEDULE_DELAY", "-5"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
    ])
    func aBadValueNamesTheVariable(variable: String, value: String) {
        #expect {
            _ = try TracingConfig(service: .adderservice, environment: [variable: value])
        } throws: { error in
            (error as? ConfigurationError)?.variable == variable && "\(error)".contains(variable)
        }
    }

    /// Checked even while tracing is off, so a typo fails the day it is made.
    @Test func aBadValueFailsWithTracingOff() {
        #expect(throws: ConfigurationError.self) {
            try TracingConfig(service: .adderservice, environment: ["OTEL_TRACES_SAMPLER": "sometimes"])
        }
    }

    /// Credentials are refused, and never repeated in the message.
    @Test(arguments: ["OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_TRACES_HEADERS", "OTEL_EXPORTER_OTLP_CERTIFICATE"])
    func credentialsAreRefusedWithoutBeingShown(variable: String) {
        #expect {
            _ = try TracingConfig(service: .adderservice, environment: [variable: "api-key=s3cret"])
        } throws: { error in
            (error as? ConfigurationError)?.variable == variable && !"\(error)".contains("s3cret")
        }
    }
}
