/// A host and port of a MongoDB server (what discovery returns for `_main._tcp.mongo…`).
public struct MongoTarget: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}

/// Who to authenticate as, and the database that holds the user (`authSource`).
public struct MongoCredentials: Sendable, Equatable, CustomStringConvertible {
    public let username: String
    public let password: String
    public let authSource: String

    public init(username: String, password: String, authSource: String) {
        self.username = username
        self.password = password
        self.authSource = authSource
    }

    public var description: String { "user \(username) of database \(authSource)" }
}

/// Builds `mongodb://` URIs from discovered targets.
public enum MongoURI {
    /// Short timeouts so a dead server gives a quick error (and a 503), not a hang: server
    /// selection 1.5 s, connect 1 s, socket 5 s (libmongoc's default socket timeout is 5 minutes).
    public static let defaultOptions: [(String, String)] = [
        ("serverSelectionTimeoutMS", "1500"),
        ("connectTimeoutMS", "1000"),
        ("socketTimeoutMS", "5000"),
    ]

    /// `mongodb://[user:password@]h1:p1,h2:p2/?opt=value&…[&authSource=db]`; every target is
    /// listed so the driver can use any. IPv6 literals are bracketed as the URI syntax requires.
    /// The user name and password are percent-encoded (any byte but letters, digits and `-._~`),
    /// as the connection string specification requires of `:/?#[]@%` and allows of the rest.
    public static func make(
        targets: [MongoTarget], options: [(String, String)] = defaultOptions, appName: String? = nil,
        credentials: MongoCredentials? = nil
    ) -> String {
        let hosts = targets.map { target in
            target.host.contains(":") ? "[\(target.host)]:\(target.port)" : "\(target.host):\(target.port)"
        }
        var query = options
        if let appName { query.append(("appname", appName)) }
        if let credentials { query.append(("authSource", percentEncoded(credentials.authSource))) }
        let queryText = query.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        let userInfo = credentials.map { "\(percentEncoded($0.username)):\(percentEncoded($0.password))@" } ?? ""
        return "mongodb://\(userInfo)\(hosts.joined(separator: ","))/" + (queryText.isEmpty ? "" : "?\(queryText)")
    }

    /// `uri` with its password replaced by `***`, for messages and logs.
    public static func redacted(_ uri: String) -> String {
        let scheme = "mongodb://"
        guard uri.hasPrefix(scheme) else { return uri }
        let rest = uri.dropFirst(scheme.count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        guard let at = authority.lastIndex(of: "@") else { return uri }
        let user = authority[..<at].prefix { $0 != ":" }
        return scheme + user + ":***" + rest[at...]
    }

    /// Every byte but the unreserved characters of RFC 3986 as `%XX`.
    static func percentEncoded(_ text: String) -> String {
        var encoded = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                let hex = Array("0123456789ABCDEF".utf8)
                encoded += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
            }
        }
        return encoded
    }
}
