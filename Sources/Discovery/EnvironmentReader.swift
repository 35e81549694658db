/// Typed reads of environment variables. Unset and empty both mean "not given".
public struct EnvironmentReader: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String]) {
        self.values = values
    }

    public func string(_ name: String) -> String? {
        guard let value = values[name], !value.isEmpty else { return nil }
        return value
    }

    /// A TCP port, 1...65535.
    public func port(_ name: String) throws(ConfigurationError) -> Int? {
        try integer(name, in: 1...65535, meaning: "a TCP port (1-65535)")
    }

    public func integer(_ name: String, in range: ClosedRange<Int>, meaning: String) throws(ConfigurationError) -> Int? {
        guard let text = string(name) else { return nil }
        guard let number = Int(text), range.contains(number) else {
            throw ConfigurationError(variable: name, value: text, reason: "expected \(meaning)")
        }
        return number
    }

    /// One of a fixed set of words, compared case-insensitively.
    public func choice(_ name: String, from allowed: [String]) throws(ConfigurationError) -> String? {
        guard let text = string(name) else { return nil }
        let lowered = text.lowercased()
        guard allowed.contains(lowered) else {
            throw ConfigurationError(variable: name, value: text, reason: "expected one of \(allowed.joined(separator: ", "))")
        }
        return lowered
    }
}
