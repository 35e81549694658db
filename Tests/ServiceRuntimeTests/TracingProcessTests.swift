import Foundation
import ServiceRuntime
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Tracing in a real service process (ServiceMain's set-up): the request log line carries the
/// server span's ids, the spans of the drain are sent before the process exits, a hung collector
/// does not hold that exit, and a malformed OTEL_* value stops start-up naming the variable.
@Suite(.stopsServers) struct TracingProcessTests {
    static let traceID = "0af7651916cd43dd8448eb211c80319c"
    static let traceparent = "00-\(traceID)-b7ad6b7169203331-01"

    static func adderservice(exportingTo receiver: OTLPReceiver, _ more: [String: String] = [:]) async throws -> ServerProcess {
        let environment = ["OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint, "OTEL_BSP_SCHEDULE_DELAY": "50"].merging(more) { _, new in new
        }
        return try await ServiceProcess.start("adderservice", environment: environment)
    }

    /// The `msg=request` lines of a log, each as its logfmt pairs in order.
    static func requestLines(_ log: String) -> [[(String, String)]] {
        log.split(separator: "\n").filter { $0.contains(" msg=request ") }.map { line in
            line.split(separator: " ").map { pair in
                let parts = pair.split(separator: "=", maxSplits: 1)
                return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
            }
        }
    }

    @Test func theRequestLineCarriesTheServerSpansIds() async throws {
        let receiver = try await OTLPReceiver()
        let service = try await Self.adderservice(exportingTo: receiver)
        let client = TestHTTPClient(port: service.port)
        #expect(try await client.execute("GET", "/add/2/3", headers: [("traceparent", Self.traceparent)]).text == #"{"result":5}"#)
        let malformed = "00-\(Self.traceID)-b7ad6b7169203331-01-evil"
        #expect(try await client.execute("GET", "/add/4/5", headers: [("traceparent", malformed)]).text == #"{"result":9}"#)
        #expect(await eventually { receiver.spans.count == 2 })
        let continued = try #require(receiver.spans(ofTrace: Self.traceID).first)
        #expect(continued.name == "GET /add/:first/:second")
        #expect(continued.serviceName == "adderservice")
        let fresh = try #require(receiver.spans.first { $0.traceID != Self.traceID })

        #expect(await eventually { Self.requestLines(service.log()).count == 2 })
        let log = service.log()
        let lines = Self.requestLines(log)
        let first = Dictionary(uniqueKeysWithValues: lines[0])
        #expect(first["trace_id"] == Self.traceID, "\(log)")
        #expect(first["span_id"] == continued.spanID)
        #expect(first["path"] == "/add/2/3")
        let second = Dictionary(uniqueKeysWithValues: lines[1])
        #expect(second["trace_id"] == fresh.traceID)
        #expect(!log.contains("evil"), "a malformed traceparent is never logged")
        // The line written directly has LogLineHandler's order: ts, level, service, msg, then the
        // fields sorted by key.
        let keys = lines[0].map(\.0)
        #expect(Array(keys.prefix(4)) == ["ts", "level", "service", "msg"])
        #expect(Array(keys.dropFirst(4)) == keys.dropFirst(4).sorted(), "\(keys)")
        #expect(Set(keys.dropFirst(4)) == ["method", "ms", "path", "request_id", "span_id", "status", "trace_id"])
    }

    /// Spans still queued at SIGTERM are sent before the process exits (the schedule would
    /// have sent them ten minutes later).
    @Test func sigtermSendsTheQueuedSpansBeforeExit() async throws {
        let receiver = try await OTLPReceiver()
        let service = try await Self.adderservice(exportingTo: receiver, ["OTEL_BSP_SCHEDULE_DELAY": "600000"])
        _ = try await TestHTTPClient(port: service.port).execute("GET", "/add/2/3", headers: [("traceparent", Self.traceparent)])
        try await Task.sleep(for: .milliseconds(200))
        #expect(receiver.spans.isEmpty)
        service.signal(SIGTERM)
        #expect(await service.waitForExit(timeout: .seconds(12)) == 0, "\(service.log())")
        #expect(receiver.spans(ofTrace: Self.traceID).map(\.name) == ["GET /add/:first/:second"])
    }

    /// A collector that takes an export and never answers (its timeout a minute): SIGTERM still
    /// ends the process within the close notice and the exporter's share of the drain budget.
    @Test func aHungCollectorDoesNotHoldTheExit() async throws {
        let receiver = try await OTLPReceiver(answer: .never)
        let service = try await Self.adderservice(exportingTo: receiver, ["OTEL_EXPORTER_OTLP_TIMEOUT": "60000"])
        let client = TestHTTPClient(port: service.port)
        _ = try await client.get("/add/1/1")
        #expect(await eventually { receiver.requests == 1 }, "an export is in flight")
        for _ in 0..<5 { _ = try await client.get("/add/1/1") }  // queued behind it
        let signalled = ContinuousClock.now
        service.signal(SIGTERM)
        #expect(await service.waitForExit(timeout: .seconds(12)) == 0, "\(service.log())")
        let took = signalled.duration(to: .now)
        #expect(took < .seconds(5), "exited \(took) after SIGTERM")
    }

    @Test(arguments: [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "https://collector:4318"),
        ("OTEL_TRACES_SAMPLER_ARG", "2"),
        ("OTEL_BSP_SCHEDULE_DELAY", "soon"),
        ("OTEL_SDK_DISABLED", "maybe"),
    ])
    func aMalformedOTELValueStopsStartUpNamingIt(variable: String, value: String) async throws {
        let service = try await ServiceProcess.start("adderservice", environment: [variable: value], waitForPort: false)
        #expect(await service.waitForExit(timeout: .seconds(10)) == 78)
        let log = service.log()
        #expect(log.contains("configuration error: invalid \(variable)="), "\(log)")
        #expect(!Ports.isListening(service.port))
    }
}
