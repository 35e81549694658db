import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import TestSupport
import Testing

/// README's promise, checked on the built executable: run it, curl /add/2/3, stop it cleanly.
@Suite(.stopsServers) struct AdderProcessTests {
    @Test func builtExecutableAddsAndStopsCleanly() async throws {
        let server = try await ServiceProcess.start("adderservice")
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(server.port)/add/2/3"), timeout: .seconds(5)
        )
        #expect(response.status == .ok)
        #expect(response.headers.first(name: "content-type") == "application/json")
        #expect(String(buffer: try await response.body.collect(upTo: 1024)) == #"{"result":5}"#)
        server.signal(SIGTERM)
        #expect(await server.waitForExit(timeout: .seconds(10)) == 0)
        #expect(server.log().contains("path=/add/2/3"), "one log line per request: \(server.log())")
    }

    /// Pinned to one CPU (taskset, as a CPU manager pins a pod), the service runs one event loop:
    /// two would take turns on that CPU in scheduler slices, and every request waits for its turn.
    @Test func pinnedToOneCPUItRunsOneEventLoop() async throws {
        let port = Ports.free(), metricsPort = Ports.free()
        let server = try await ServerProcess(
            name: "adderservice", executable: try TestPaths.tool("taskset"),
            arguments: ["-c", "0", try TestPaths.builtExecutable("adderservice")], port: port, metricsPort: metricsPort,
            environment: ["ADDERSERVICE_SERVICE_PORT": "\(port)", "ADDERSERVICE_SERVICE_PORT_METRICS": "\(metricsPort)"], waitForPort: true
        )
        let response = try await HTTPClient.shared.execute(
            HTTPClientRequest(url: "http://127.0.0.1:\(port)/add/2/3"), timeout: .seconds(5)
        )
        #expect(response.status == .ok)
        let threads = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/task").map { task in
            (try? String(contentsOfFile: "/proc/\(server.pid)/task/\(task)/comm", encoding: .utf8)) ?? ""
        }
        #expect(threads.filter { $0.hasPrefix("NIO-SGLTN-1-") }.count == 1, "event-loop threads: \(threads.sorted())")
    }
}
