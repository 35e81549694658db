import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ServiceRuntime
import TestSupport
import Testing

/// The runtime as a real process: start-up errors and SIGTERM while a request is in flight.
@Suite(.stopsServers) struct GracefulShutdownTests {
    @Test func sigtermLetsTheInFlightRequestFinishThenExitsZero() async throws {
        let server = try await ServiceProcess.start("slowservice", environment: ["PATH": "/usr/bin:/bin"])
        let port = server.port
        let request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/slow/1500")
        async let slow = HTTPClient.shared.execute(request, timeout: .seconds(10))
        try await Task.sleep(for: .milliseconds(300))  // the request is now in flight
        let signalled = ContinuousClock.now
        server.signal(SIGTERM)
        let response = try await slow
        let body = try await response.body.collect(upTo: 1024)
        #expect(response.status == .ok)
        #expect(String(buffer: body) == "done after 1500 ms")
        let status = await server.waitForExit(timeout: .seconds(10))
        #expect(status == 0, "\(server.log())")
        #expect(signalled.duration(to: .now) < .seconds(10))
        #expect(!Ports.isListening(port))
    }

    /// A request that outlasts the drain budget is cut off at its end and the process still
    /// exits 0, within the time its pod allows (DeploymentTests/DrainBudgetTests).
    @Test func aRequestLongerThanTheDrainBudgetIsCutOffAndTheProcessExitsZero() async throws {
        let server = try await ServiceProcess.start("slowservice", environment: ["PATH": "/usr/bin:/bin"])
        let connection = try RawConnection(port: server.port)
        defer { connection.close() }
        try connection.send("GET /slow/60000 HTTP/1.1\r\nHost: x\r\n\r\n")
        try await Task.sleep(for: .milliseconds(300))  // the request is now in flight
        let signalled = ContinuousClock.now
        server.signal(SIGTERM)
        let status = await server.waitForExit(timeout: .seconds(20))
        let took = signalled.duration(to: .now)
        #expect(status == 0, "\(server.log())")
        let budget = ServiceRuntime.drainLimit
        #expect(took > budget - .seconds(1) && took < budget + .seconds(2), "exited \(took) after SIGTERM, budget \(budget)")
        let (answer, closed) = await connection.readUntilClosed(timeout: .seconds(2))
        #expect(closed && answer.isEmpty, "the request was answered or left open")
    }

    /// For a moment after SIGTERM the server still answers, but tells each client to close its
    /// keep-alive connection, so no client sends a request on a connection the drain is closing.
    @Test func afterSigtermResponsesSayConnectionClose() async throws {
        let server = try await ServiceProcess.start("slowservice", environment: ["PATH": "/usr/bin:/bin"])
        let url = "http://127.0.0.1:\(server.port)/healthz"
        let before = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
        #expect(before.headers["connection"].first?.lowercased() != "close")
        server.signal(SIGTERM)
        try await Task.sleep(for: .milliseconds(200))
        let during = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: .seconds(5))
        #expect(during.status == .ok)
        #expect(during.headers["connection"].first?.lowercased() == "close", "\(during.headers)")
        #expect(await server.waitForExit(timeout: .seconds(10)) == 0, "\(server.log())")
    }

    /// A taken port is one log line naming it and exit status 1, not a crash report.
    @Test func aTakenPortIsOneClearLineAndExitStatusOne() async throws {
        let first = try await ServiceProcess.start("adderservice")
        let port = first.port
        let second = try await ServiceProcess.start("adderservice", port: port, waitForPort: false)
        #expect(await second.waitForExit(timeout: .seconds(10)) == 1)
        let log = second.log()
        #expect(log.contains("level=critical"), "\(log)")
        #expect(log.contains("cannot listen on port \(port): it is already in use"), "\(log)")
        #expect(!log.contains("Fatal error"), "\(log)")
    }

    @Test func badPortVariableStopsStartUpNamingIt() async throws {
        let server = try await ServerProcess(
            name: "adderservice-badport", executable: try TestPaths.builtExecutable("adderservice"), arguments: [],
            port: 0, environment: ["ADDERSERVICE_SERVICE_PORT": "eighty"], waitForPort: false
        )
        let status = await server.waitForExit(timeout: .seconds(10))
        #expect(status == 78)
        let log = server.log()
        #expect(log.contains("ADDERSERVICE_SERVICE_PORT"), "\(log)")
        #expect(log.contains("eighty"))
    }
}
