import AsyncHTTPClient
import Discovery
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import NIOCore
import NIOHTTP1

/// The service could not give an answer: unreachable, timed out, or failing (5xx, garbled reply).
/// Pages turn it into "unavailable" (503); the message is for logs, never for visitors.
struct ServiceUnavailable: Error, CustomStringConvertible {
    let service: String
    let reason: String
    var description: String { "\(service) unavailable: \(reason)" }
}

/// A reply with a status the caller interprets (adderservice 400 means "bad operands").
struct ServiceReply: Sendable {
    let status: HTTPResponseStatus
    let body: ByteBuffer
}

/// HTTP calls to one service over the shared, pooled keep-alive `HTTPClient`, to the target the
/// selector picks. Every call has a deadline, so a hung service cannot hold a page.
struct ServiceHTTPClient: Sendable {
    let service: String
    let http: HTTPClient
    let selector: any TargetSelector
    let timeout: TimeAmount
    static let maxReplySize = 1 << 20

    init(service: String, http: HTTPClient, selector: any TargetSelector, timeout: TimeAmount = .seconds(3)) {
        self.service = service
        self.http = http
        self.selector = selector
        self.timeout = timeout
    }

    func get(_ path: String) async throws(ServiceUnavailable) -> ServiceReply {
        try await send(.GET, path, body: nil)
    }

    func post(_ path: String, json: ByteBuffer) async throws(ServiceUnavailable) -> ServiceReply {
        try await send(.POST, path, body: json)
    }

    private func send(_ method: HTTPMethod, _ path: String, body: ByteBuffer?) async throws(ServiceUnavailable) -> ServiceReply {
        do {
            return try await selector.withTarget { [http, timeout] target in
                var request = HTTPClientRequest(url: "http://\(target.host):\(target.port)\(path)")
                request.method = method
                request.headers.add(name: "accept", value: "application/json")
                if let body {
                    request.headers.add(name: "content-type", value: "application/json")
                    request.body = .bytes(body)
                }
                let response = try await http.execute(request, timeout: timeout)
                let bytes = try await response.body.collect(upTo: Self.maxReplySize)
                return ServiceReply(status: response.status, body: bytes)
            }
        } catch let error as ServiceUnavailable {
            throw error
        } catch {
            throw ServiceUnavailable(service: service, reason: String(describing: error))
        }
    }
}

/// The one `HTTPClient` of the process: pooled keep-alive connections, connect and read timeouts.
enum ServiceHTTP {
    static func makeClient() -> HTTPClient {
        var configuration = HTTPClient.Configuration(
            timeout: .init(connect: .milliseconds(500), read: .seconds(3)),
            connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        )
        // Fail over at once when a target refuses: the balancer tries the next one.
        configuration.connectionPool.retryConnectionEstablishment = false
        configuration.decompression = .disabled
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}
