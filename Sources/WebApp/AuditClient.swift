import Contracts
import NIOCore
import NIOHTTP1
import Platform
import ServiceClient

/// auditservice: `POST /append`, `POST /append/batch`, `GET /list?limit=N`.
struct AuditClient: Sendable {
    /// auditservice answered 4xx: the record is wrong and retrying cannot help.
    struct Rejected: Error, CustomStringConvertible {
        let status: UInt
        let message: String
        var description: String { "auditservice rejected the record (\(status)): \(message)" }
    }

    let client: ServiceHTTPClient

    init(client: ServiceHTTPClient) { self.client = client }

    func list(limit: Int) async throws(ServiceUnavailable) -> [AuditList.Entry] {
        let reply = try await client.get(AuditList.path + "?limit=\(limit)", route: AuditList.path)
        guard reply.status.code == 200 else {
            throw ServiceUnavailable(service: client.service, reason: "status \(reply.status.code)")
        }
        guard let body = try? JSONDecoder().decode(AuditList.self, from: Data(reply.body.readableBytesView)) else {
            throw ServiceUnavailable(service: client.service, reason: "reply without a list")
        }
        return body.list
    }

    /// Throws `ServiceUnavailable` (worth retrying) or `Rejected` (not). Idempotent on
    /// `append.id`: a retry after a lost reply stores nothing twice.
    func append(_ append: AuditAppend) async throws {
        try await self.append(json: append.json)
    }

    /// The same with the body already written (an outbox entry): auditservice checks it, and
    /// answers 400 (`Rejected`) for one that is not an `/append` body.
    func append(json: String) async throws {
        let reply = try await client.post(AuditAppend.path, route: AuditAppend.path, json: ByteBuffer(string: json))
        guard (200..<300).contains(reply.status.code) else { throw failure(reply) }
    }

    /// Appends `records` (`/append` bodies as written or stored) in one request; returns the
    /// refused ones (`Reply.Refusal.index` into `records`), every other one being stored. Throws
    /// `Rejected` when auditservice refuses the batch as a whole (a record that is not JSON
    /// spoils the body), else `ServiceUnavailable`.
    func appendBatch(records: [String]) async throws -> [AuditAppendBatch.Reply.Refusal] {
        let body = ByteBuffer(string: AuditAppendBatch.body(records: records))
        let reply = try await client.post(AuditAppendBatch.path, route: AuditAppendBatch.path, json: body)
        guard (200..<300).contains(reply.status.code) else { throw failure(reply) }
        guard let answer = try? JSONDecoder().decode(AuditAppendBatch.Reply.self, from: Data(reply.body.readableBytesView)) else {
            throw ServiceUnavailable(service: client.service, reason: "batch reply without its refusals")
        }
        return answer.refused
    }

    /// 4xx: the request is wrong and retrying cannot help; anything else may pass later.
    private func failure(_ reply: ServiceReply) -> any Error {
        guard (400..<500).contains(reply.status.code) else {
            return ServiceUnavailable(service: client.service, reason: "status \(reply.status.code)")
        }
        let message = (try? JSONDecoder().decode(ErrorBody.self, from: Data(reply.body.readableBytesView)))?.error ?? ""
        return Rejected(status: reply.status.code, message: message)
    }
}
