import Discovery
import NIOCore
import NIOHTTP1
import ServiceClient

/// The service could not give an answer: unreachable, timed out, or failing (5xx, garbled reply).
/// Pages turn it into "unavailable" (503); the message is for logs, never for visitors.
struct ServiceUnavailable: Error, CustomStringConvertible {
    let service: String
    let reason: String
    var description: String { "\(service) unavailable: \(reason)" }
}

/// HTTP calls to one service over the shared keep-alive connections, to the target the selector
/// picks. Every call has a deadline, so a hung service cannot hold a page.
struct ServiceHTTPClient: Sendable {
    let service: String
    let http: ServiceConnectionPool
    let selector: any TargetSelector
    let timeout: TimeAmount

    init(service: String, http: ServiceConnectionPool, selector: any TargetSelector, timeout: TimeAmount = .seconds(3)) {
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
                try await http.execute(method, path, headers: Self.headers(body: body), body: body, to: target, timeout: timeout)
            }
        } catch let error as ServiceUnavailable {
            throw error
        } catch {
            throw ServiceUnavailable(service: service, reason: String(describing: error))
        }
    }

    private static func headers(body: ByteBuffer?) -> HTTPHeaders {
        body == nil ? ["accept": "application/json"] : ["accept": "application/json", "content-type": "application/json"]
    }
}
