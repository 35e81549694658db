import Logging
import NIOHTTP1
import PropertyBased
import ServiceRuntime
import TestSupport
import Testing

@testable import AdderService

/// The service agrees with checked Int64 addition on random pairs: the exact sum, or a 400.
@Suite struct AdditionPropertyTests {
    @Test func routeMatchesCheckedAddition() async throws {
        let app = buildApplication(
            runtime: ServiceRuntime(config: .init(service: .adderservice, port: 0, metricsPort: 0, logLevel: .warning)))
        try await app.withRunning { ports in
            let client = TestHTTPClient(port: try #require(ports.main))
            // Half the pairs near the edges, where overflow happens; half anywhere.
            let edge = Gen.int64(in: (Int64.max - 1000)...Int64.max)
            let anywhere = Gen.int64(in: Int64.min...Int64.max)
            await propertyCheck(count: 300, input: Gen.oneOf(edge, anywhere), Gen.oneOf(edge, anywhere, edge.map { -$0 })) {
                first, second in
                let (sum, overflow) = first.addingReportingOverflow(second)
                let path = "/add/\(first)/\(second)"
                await #expect(throws: Never.self) {
                    let response = try await client.get(path)
                    if overflow {
                        #expect(response.status == .badRequest, "\(path)")
                    } else {
                        #expect(response.status == .ok, "\(path)")
                        #expect(response.text == "{\"result\":\(sum)}", "\(path)")
                    }
                }
            }
        }
    }
}
