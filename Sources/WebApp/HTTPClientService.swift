import AsyncHTTPClient
import ServiceLifecycle

/// Keeps the shared `HTTPClient` alive while the app runs and shuts it down on graceful shutdown.
/// Listed first among the app's services, so it stops last: the background recorders finish
/// their sends before the client goes away.
struct HTTPClientService: Service {
    let client: HTTPClient

    init(client: HTTPClient) { self.client = client }

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
