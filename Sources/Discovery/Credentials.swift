/// A user name and password for a dependency (Redis, MongoDB), as the environment gives them:
/// `<PREFIX>_USERNAME` and `<PREFIX>_PASSWORD`, which Kubernetes fills from a Secret
/// (docs/design.md, "Credentials"). The description names the user, never the password.
public struct Credentials: Sendable, Equatable, CustomStringConvertible {
    public let username: String
    public let password: String

    public init(username: String, password: String) {
        self.username = username
        self.password = password
    }

    public var description: String { "user \(username)" }
}

extension EnvironmentReader {
    /// `<prefix>_USERNAME` and `<prefix>_PASSWORD`, both or neither: neither is a server without
    /// authentication (nil); one without the other stops the start, naming the missing variable.
    /// A password is never part of an error message.
    public func credentials(_ prefix: String) throws(ConfigurationError) -> Credentials? {
        let userVariable = prefix + "_USERNAME", passwordVariable = prefix + "_PASSWORD"
        switch (string(userVariable), string(passwordVariable)) {
        case (nil, nil):
            return nil
        case (let username?, let password?):
            return Credentials(username: username, password: password)
        case (let username?, nil):
            throw ConfigurationError(
                variable: passwordVariable, value: "", reason: "missing: \(userVariable)=\(username) needs its password (a Secret's key)"
            )
        case (nil, _?):
            throw ConfigurationError(
                variable: userVariable, value: "", reason: "missing: \(passwordVariable) is set, so the user name is needed too")
        }
    }
}
