import Contracts
import NIOCore
import NIOHTTP1
import Platform
import ServiceClient

/// adderservice: `GET /add/{first}/{second}` → `{"result": n}`.
struct AdderClient: Sendable {
    enum Outcome: Sendable, Equatable {
        case sum(Int64)
        /// adderservice refused the operands (400), e.g. the sum leaves the 64-bit range.
        case rejected(String)
    }

    let client: ServiceHTTPClient

    init(client: ServiceHTTPClient) { self.client = client }

    func add(_ first: Int64, _ second: Int64) async throws(ServiceUnavailable) -> Outcome {
        let reply = try await client.get(AddResult.path(first: first, second: second), route: AddResult.route)
        switch reply.status.code {
        case 200:
            guard let body = try? JSONDecoder().decode(AddResult.self, from: Data(reply.body.readableBytesView)) else {
                throw ServiceUnavailable(service: client.service, reason: "reply without an integer result")
            }
            return .sum(body.result)
        case 400..<500:
            let message = (try? JSONDecoder().decode(ErrorBody.self, from: Data(reply.body.readableBytesView)))?.error
            return .rejected(message ?? "adderservice could not add these numbers")
        default:
            throw ServiceUnavailable(service: client.service, reason: "status \(reply.status.code)")
        }
    }
}
