/// One place a service can be reached: a host (an IPv4 address from SRV then A, or a name a test
/// gives) and a port. The one address type for every discovered target: the HTTP services, Redis
/// (`RedisClient.Endpoint`) and MongoDB (`MongoURI`).
public struct ServiceTarget: Hashable, Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var description: String { "\(host):\(port)" }
}
