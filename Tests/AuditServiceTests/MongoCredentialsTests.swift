import Foundation
import NIOCore
import NIOHTTP1
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The built `auditservice` with MongoDB credentials (MONGO_USERNAME, MONGO_PASSWORD): a server
/// that does not accept them leaves it up but not ready, naming MongoDB and the authentication;
/// a half-given pair stops the start. (nx-27017 has no authentication at all, so it refuses
/// every user: what a wrong password does against mongod. How the URI carries the credentials:
/// MongoAdapterTests' MongoURITests.)
@Suite(.stopsServers) struct MongoCredentialsTests {
    @Test func refusedCredentialsMakeItUnreadyNamingTheAuthenticationNotACrash() async throws {
        let mongo = try await MongoServer.start()
        let service = try await ServiceProcess.start(
            "auditservice", finding: ["mongo": mongo.port],
            environment: ["MONGO_USERNAME": "auditservice", "MONGO_PASSWORD": "not:the/password@all"]
        )
        var body = ""
        var ready: HTTPResponseStatus?
        for _ in 0..<40 {
            let connection = try RawConnection(port: service.metricsPort)
            try connection.send("GET /readyz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            let response = await connection.readResponse()
            connection.close()
            ready = response?.status
            body = response.map { String(buffer: $0.body) } ?? ""
            if body.contains("authentication failed") { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(ready == .serviceUnavailable, "\(body)")
        #expect(body.contains("mongo") && body.contains("MongoDB authentication failed"), "\(body)\n\(service.log())")
        #expect(!body.contains("not:the/password@all") && !service.log().contains("the/password"), "the password leaked")
        #expect(service.isRunning)
        service.signal(SIGTERM)
        #expect(await service.waitForExit(timeout: .seconds(12)) == 0)
    }

    @Test func aHalfGivenPairStopsTheStart() async throws {
        let service = try await ServiceProcess.start("auditservice", environment: ["MONGO_USERNAME": "auditservice"], waitForPort: false)
        #expect(await service.waitForExit(timeout: .seconds(10)) == 78)
        #expect(service.log().contains("MONGO_PASSWORD"), "\(service.log())")
    }
}
