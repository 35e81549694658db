import AsyncHTTPClient
import ServiceLifecycle

/// Keeps the shared `HTTPClient` alive while the app runs and shuts it down on graceful shutdown.
/// Listed first among the app's services, so it stops last: the background recorders finish
/// their sends before the client goes away.
public struct HTTPClientService: Service {
    public let client: HTTPClient

    public init(client: HTTPClient) { self.client = client }

    public func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
