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
        #expect(try await TestHTTPClient(port: server.metricsPort).get("/readyz").text.contains(#""listening":"ok""#))
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
        #expect(!Ports.isListening(server.metricsPort))
    }

    /// The admin port stops last: while the service's port drains, probes and scrapes are still
    /// answered — /readyz with 503, since the service's port no longer accepts — then both close
    /// within the one drain budget.
    @Test func theAdminPortAnswersUntilTheServicePortHasDrained() async throws {
        let server = try await ServiceProcess.start("slowservice", environment: ["PATH": "/usr/bin:/bin"])
        let connection = try RawConnection(port: server.port)
        defer { connection.close() }
        try connection.send("GET /slow/2500 HTTP/1.1\r\nHost: x\r\n\r\n")
        try await Task.sleep(for: .milliseconds(300))  // the request is now in flight
        let signalled = ContinuousClock.now
        server.signal(SIGTERM)
        try await Task.sleep(for: .milliseconds(1500))  // past the close notice: the service's port no longer accepts
        #expect(!Ports.isListening(server.port), "the service's port still accepts after the close notice")
        let healthy = try await TestHTTPClient(port: server.metricsPort).get("/healthz")
        #expect(healthy.status == .ok, "the admin port during the drain")
        let ready = try await TestHTTPClient(port: server.metricsPort).get("/readyz")
        #expect(
            ready.status == .serviceUnavailable && ready.text.contains("port \(server.port) does not accept connections"), "\(ready.text)")
        let answer = await connection.readResponse()
        #expect(answer?.text == "done after 2500 ms")
        #expect(await server.waitForExit(timeout: .seconds(10)) == 0, "\(server.log())")
        #expect(signalled.duration(to: .now) < ServiceRuntime.drainLimit)
        #expect(!Ports.isListening(server.metricsPort))
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
        let url = "http://127.0.0.1:\(server.port)/slow/0"
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

    /// The same for the admin port, which the second process finds taken.
    @Test func aTakenAdminPortIsOneClearLineNamingIt() async throws {
        let first = try await ServiceProcess.start("adderservice")
        let second = try await ServiceProcess.start("adderservice", metricsPort: first.metricsPort, waitForPort: false)
        #expect(await second.waitForExit(timeout: .seconds(10)) == 1)
        let log = second.log()
        #expect(log.contains("cannot listen on port \(first.metricsPort): it is already in use"), "\(log)")
    }

    @Test(arguments: [
        ["ADDERSERVICE_SERVICE_PORT": "eighty"], ["METRICS_PORT": "0"], ["ADDERSERVICE_SERVICE_PORT_METRICS": "x"],
        ["ADDERSERVICE_SERVICE_PORT": "8500", "METRICS_PORT": "8500"],
    ])
    func badPortVariableStopsStartUpNamingIt(environment: [String: String]) async throws {
        let server = try await ServerProcess(
            name: "adderservice-badport", executable: try TestPaths.builtExecutable("adderservice"), arguments: [],
            port: 0, environment: environment, waitForPort: false
        )
        let status = await server.waitForExit(timeout: .seconds(10))
        #expect(status == 78)
        let log = server.log()
        let (variable, value) = try #require(environment.first { $0.key.contains("METRICS") } ?? environment.first)
        #expect(log.contains(variable) && log.contains(value), "\(log)")
    }
}
