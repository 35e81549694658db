import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix

/// Runs one probe the way the kubelet does: HTTP GET (200-399 passes) or a TCP connect to the
/// pod's address from the node, or a command inside the container (`exec` runs it there; exit 0 passes).
enum Prober {
    static func check(_ probe: Probe, container: Container, address: String, exec: [String]) async -> Bool {
        let timeout = TimeAmount.seconds(Int64(max(1, probe.timeoutSeconds)))
        switch probe.action {
        case .httpGet(let path, let reference):
            guard let port = container.port(reference) else { return false }
            do {
                let response = try await HTTPClient.shared.execute(
                    HTTPClientRequest(url: "http://\(address):\(port)\(path)"), timeout: timeout)
                _ = try? await response.body.collect(upTo: 64 * 1024)
                return (200..<400).contains(response.status.code)
            } catch {
                return false
            }
        case .tcpSocket(let reference):
            guard let port = container.port(reference) else { return false }
            do {
                let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .connectTimeout(timeout).connect(host: address, port: port).get()
                try? await channel.close()
                return true
            } catch {
                return false
            }
        case .exec(let command):
            guard !command.isEmpty else { return false }
            let result = try? await Command.run(
                exec + command, timeout: .seconds(max(1, probe.timeoutSeconds))
            )
            return result?.succeeded ?? false
        }
    }
}
