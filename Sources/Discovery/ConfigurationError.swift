/// A configuration value that cannot be used. Start-up stops with this message, which names the
/// variable: a bad value is never replaced by a silent default.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public let variable: String
    public let value: String
    public let reason: String

    public init(variable: String, value: String, reason: String) {
        self.variable = variable
        self.value = value
        self.reason = reason
    }

    public var description: String { "invalid \(variable)=\"\(value)\": \(reason)" }
}
