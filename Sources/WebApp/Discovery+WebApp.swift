import AsyncHTTPClient
import Discovery

// Discovery's balancer is the production target selector.
extension ServiceBalancer: TargetSelector {}

/// AsyncHTTPClient's connect timeout is "could not connect": nothing was sent, so the balancer
/// may try the next target (Discovery recognises NIO's own connect errors itself).
extension HTTPClientError: ConnectionFailure {
    public var isConnectionFailure: Bool { self == .connectTimeout }
}
