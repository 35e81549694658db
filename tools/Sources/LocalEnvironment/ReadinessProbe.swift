import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// Asks a component whether it is ready: the services' `GET /readyz` (200 means every dependency
/// answers), or a TCP connect for the servers.
enum ReadinessProbe {
    struct Result: Sendable {
        var ready: Bool
        /// What the component said, for the message when it does not become ready (the 503 body
        /// names the failing dependency).
        var detail: String
    }

    static func check(_ readiness: ComponentSpec.Readiness) async -> Result {
        switch readiness {
        case .tcp(let host, let port):
            let listening = PortCheck.isListening(host: host, port: port)
            return Result(ready: listening, detail: listening ? "listening" : "not listening on \(host):\(port)")
        case .http(let port, let path):
            return await http(url: "http://127.0.0.1:\(port)\(path)")
        }
    }

    private static func http(url: String) async -> Result {
        do {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(2))
            let body = String(buffer: try await response.body.collect(upTo: 16 * 1024))
            return Result(ready: response.status == .ok, detail: "\(response.status.code) \(body)")
        } catch {
            return Result(ready: false, detail: "\(url): \(error)")
        }
    }
}
