import Discovery

/// Where spans are POSTed: `http://host[:port][/path]`. Plain HTTP only — the services link no
/// TLS; a collector beside them (a sidecar, a node agent) forwards wherever it must.
public struct OTLPEndpoint: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    /// The request target, e.g. `/v1/traces`.
    public var path: String

    public init(host: String, port: Int, path: String) {
        self.host = host
        self.port = port
        self.path = path
    }

    public var description: String { "http://\(host.contains(":") ? "[\(host)]" : host):\(port)\(path)" }

    /// The specification's default for OTLP/HTTP.
    public static let `default` = OTLPEndpoint(host: "localhost", port: 4318, path: "/v1/traces")

    /// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` as it is, else `OTEL_EXPORTER_OTLP_ENDPOINT` with
    /// `v1/traces` added to its path (the specification's rule for OTLP/HTTP); both are checked.
    static func read(from reader: EnvironmentReader) throws(ConfigurationError) -> OTLPEndpoint? {
        let signal = try reader.string("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").map { text throws(ConfigurationError) in
            try parse(text, variable: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", appending: nil)
        }
        let base = try reader.string("OTEL_EXPORTER_OTLP_ENDPOINT").map { text throws(ConfigurationError) in
            try parse(text, variable: "OTEL_EXPORTER_OTLP_ENDPOINT", appending: "v1/traces")
        }
        return signal ?? base
    }

    static func parse(_ text: String, variable: String, appending signalPath: String?) throws(ConfigurationError) -> OTLPEndpoint {
        let failure = { (reason: String) in ConfigurationError(variable: variable, value: text, reason: reason) }
        guard text.lowercased().hasPrefix("http://") else {
            throw failure(
                text.lowercased().hasPrefix("https://")
                    ? "https is not supported: send plain http to a collector beside the service" : "expected http://host[:port][/path]")
        }
        let rest = text.dropFirst("http://".count)
        let pathStart = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<pathStart]
        var path = String(rest[pathStart...])
        guard let (host, port) = Self.hostAndPort(authority) else {
            throw failure("expected http://host[:port][/path] with a host name or address and a port 1-65535")
        }
        guard path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "#") }) else {
            throw failure("the path may hold visible ASCII only, no fragment")
        }
        if let signalPath {
            path = (path.hasSuffix("/") ? path : path + "/") + signalPath
        } else if path.isEmpty {
            path = "/"
        }
        return OTLPEndpoint(host: host, port: port, path: path)
    }

    /// `name`, `name:port`, `[v6]`, `[v6]:port`; port 80 when none is given.
    private static func hostAndPort(_ authority: Substring) -> (String, Int)? {
        var host = authority
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { return nil }
                portText = after.dropFirst()
            }
            guard !host.isEmpty, host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else { return nil }
        } else {
            if let colon = authority.firstIndex(of: ":") {
                host = authority[..<colon]
                portText = authority[authority.index(after: colon)...]
            }
            let allowed = host.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "-" || $0 == "." || $0 == "_")
            }
            guard !host.isEmpty, allowed else { return nil }
        }
        guard let portText else { return (String(host), 80) }
        guard let port = Int(portText), (1...65535).contains(port) else { return nil }
        return (String(host), port)
    }
}
