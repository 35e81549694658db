import Discovery

/// Tracing's configuration, from the standard OpenTelemetry variables (docs/design.md, "Tracing").
///
/// Unlike the OpenTelemetry default (export to localhost:4318), nothing set means no tracing at
/// all: no tracer, no ids, no cost. Tracing is on once a variable asks for it —
/// `OTEL_EXPORTER_OTLP_ENDPOINT` (or `…_TRACES_ENDPOINT`), or `OTEL_TRACES_EXPORTER` (`otlp`:
/// to the endpoint or its default; `none`: trace ids in the logs and on the wire, nothing
/// exported) — and `OTEL_SDK_DISABLED` is not `true`. Every value read that is set but unusable
/// throws, naming the variable.
public struct TracingConfig: Sendable, Equatable {
    public enum Export: Sendable, Equatable {
        /// OTLP/HTTP with protobuf bodies, POSTed to the endpoint.
        case otlp(OTLPEndpoint)
        /// Spans are made (ids, sampling, propagation, log fields) but go nowhere.
        case unexported
    }

    /// `service.name` of every span: `OTEL_SERVICE_NAME`, else the service table's name.
    public var serviceName: String
    /// nil: tracing is off.
    public var export: Export?
    public var sampler: Sampler
    public var batch: BatchSettings

    /// The batch span processor's settings (`OTEL_BSP_*`, `OTEL_EXPORTER_OTLP_TIMEOUT`), with the
    /// specification's defaults.
    public struct BatchSettings: Sendable, Equatable {
        /// Spans waiting beyond this are dropped and counted: a span never waits for the exporter.
        public var maxQueueSize = 2048
        public var maxExportBatchSize = 512
        /// How long a finished span may wait before its batch is sent.
        public var scheduleDelay: Duration = .seconds(5)
        /// One export's deadline, connecting included; its spans are dropped after it.
        public var exportTimeout: Duration = .seconds(10)

        public init() {}
    }

    public init(
        serviceName: String, export: Export?, sampler: Sampler = .parentBased(root: .always), batch: BatchSettings = BatchSettings()
    ) {
        self.serviceName = serviceName
        self.export = export
        self.sampler = sampler
        self.batch = batch
    }

    /// Whether spans are made at all (exported or not).
    public var isOn: Bool { export != nil }

    /// Tracing off.
    public static func off(serviceName: String) -> TracingConfig {
        TracingConfig(serviceName: serviceName, export: nil)
    }

    public init(service: MicroService, environment: [String: String]) throws(ConfigurationError) {
        try self.init(defaultServiceName: service.name, environment: EnvironmentReader(environment))
    }

    public init(defaultServiceName: String, environment reader: EnvironmentReader) throws(ConfigurationError) {
        // Every variable is checked even when tracing stays off: a typo fails now, not on the
        // day someone sets the endpoint.
        let disabled = try reader.boolean("OTEL_SDK_DISABLED") ?? false
        let exporter = try reader.choice("OTEL_TRACES_EXPORTER", from: ["otlp", "none"])
        let endpoint = try OTLPEndpoint.read(from: reader)
        _ = try reader.choice("OTEL_EXPORTER_OTLP_PROTOCOL", from: ["http/protobuf"])
        _ = try reader.choice("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", from: ["http/protobuf"])
        let sampler = try Sampler.read(from: reader)
        let batch = try BatchSettings.read(from: reader)
        // Credentials and TLS are a collector's business: a service sends plain OTLP/HTTP to one
        // beside it. Refused rather than ignored, so that nobody believes they are in use.
        for variable in Self.unsupported where reader.string(variable) != nil {
            throw ConfigurationError(
                variable: variable, value: "(not shown)",
                reason: "not supported: export to a collector without credentials or TLS, and let it forward")
        }
        let name = reader.string("OTEL_SERVICE_NAME") ?? defaultServiceName

        let export: Export? =
            switch (disabled, exporter, endpoint) {
            case (true, _, _): nil
            case (false, "none", _): .unexported
            case (false, "otlp", let endpoint): .otlp(endpoint ?? .default)
            case (false, _, let endpoint?): .otlp(endpoint)
            case (false, _, nil): nil
            }
        self.init(serviceName: name, export: export, sampler: sampler, batch: batch)
    }
}

extension TracingConfig {
    static let unsupported = ["HEADERS", "CERTIFICATE", "CLIENT_KEY", "CLIENT_CERTIFICATE"].flatMap {
        ["OTEL_EXPORTER_OTLP_\($0)", "OTEL_EXPORTER_OTLP_TRACES_\($0)"]
    }
}

extension TracingConfig.BatchSettings {
    static func read(from reader: EnvironmentReader) throws(ConfigurationError) -> Self {
        var settings = Self()
        let milliseconds = "a duration in milliseconds"
        if let size = try reader.integer("OTEL_BSP_MAX_QUEUE_SIZE", in: 1...1_000_000, meaning: "a span count (1-1000000)") {
            settings.maxQueueSize = size
        }
        if let size = try reader.integer(
            "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", in: 1...settings.maxQueueSize, meaning: "a span count, at most OTEL_BSP_MAX_QUEUE_SIZE")
        {
            settings.maxExportBatchSize = size
        } else {
            settings.maxExportBatchSize = min(settings.maxExportBatchSize, settings.maxQueueSize)
        }
        if let delay = try reader.integer("OTEL_BSP_SCHEDULE_DELAY", in: 1...3_600_000, meaning: milliseconds) {
            settings.scheduleDelay = .milliseconds(delay)
        }
        let general = try reader.integer("OTEL_EXPORTER_OTLP_TIMEOUT", in: 1...600_000, meaning: milliseconds)
        if let timeout = try reader.integer("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", in: 1...600_000, meaning: milliseconds) ?? general {
            settings.exportTimeout = .milliseconds(timeout)
        }
        return settings
    }
}

extension EnvironmentReader {
    /// `true` or `false`, in any case.
    func boolean(_ name: String) throws(ConfigurationError) -> Bool? {
        try choice(name, from: ["true", "false"]).map { $0 == "true" }
    }
}
