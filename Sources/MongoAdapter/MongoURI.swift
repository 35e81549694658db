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

/// Builds `mongodb://` URIs from discovered targets.
public enum MongoURI {
    /// Short timeouts so a dead server gives a quick error (and a 503), not a hang: server
    /// selection 1.5 s, connect 1 s, socket 5 s (libmongoc's default socket timeout is 5 minutes).
    public static let defaultOptions: [(String, String)] = [
        ("serverSelectionTimeoutMS", "1500"),
        ("connectTimeoutMS", "1000"),
        ("socketTimeoutMS", "5000"),
    ]

    /// `mongodb://h1:p1,h2:p2/?opt=value&…`; every target is listed so the driver can use any.
    /// IPv6 literals are bracketed as the URI syntax requires.
    public static func make(targets: [MongoTarget], options: [(String, String)] = defaultOptions, appName: String? = nil) -> String {
        let hosts = targets.map { target in
            target.host.contains(":") ? "[\(target.host)]:\(target.port)" : "\(target.host):\(target.port)"
        }
        var query = options
        if let appName { query.append(("appname", appName)) }
        let queryText = query.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        return "mongodb://\(hosts.joined(separator: ","))/" + (queryText.isEmpty ? "" : "?\(queryText)")
    }
}
