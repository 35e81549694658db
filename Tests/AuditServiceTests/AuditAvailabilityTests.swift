import Contracts
import Discovery
import Foundation
import MongoAdapter
import NIOHTTP1
import TestSupport
import Testing

@testable import AuditService

/// Mongo away, back, and moved: the service answers 503 meanwhile and recovers without a restart.
@Suite("auditservice when MongoDB comes and goes", .stopsServers)
struct AuditAvailabilityTests {
    @Test("Mongo stopped mid-run → 503 and /readyz 503; restarted on the same port → appends work again, nothing lost")
    func mongoRestart() async throws {
        let mongo = try await MongoServer.start()
        try await AuditHarness.withService(mongoPort: mongo.port) { client in
            try await client.waitUntilReady()
            #expect(try await client.append(#"{"calc": "1+1", "calcResult": 2}"#).status == .created)

            await mongo.stop()
            let refused = try await client.append(#"{"calc": "2+2", "calcResult": 4}"#)
            #expect(refused.status == .serviceUnavailable, "\(refused.text)")
            #expect(try refused.errorMessage().contains("MongoDB"))
            #expect(try await client.list().status == .serviceUnavailable)
            try await client.waitUntil("/readyz is 503") { try await client.readyStatus() == .serviceUnavailable }

            try await mongo.restart()
            try await client.waitUntil("appends succeed again") {
                try await client.append(#"{"calc": "3+3", "calcResult": 6}"#).status == .created
            }
            try await client.waitUntilReady()
            let calcs = try await client.list().entries().map(\.calc)
            #expect(calcs.first == "3+3")
            #expect(calcs.contains("1+1"), "the entry from before the restart is still there: \(calcs)")
            #expect(!calcs.contains("2+2"), "the refused append must not have been stored: \(calcs)")
        }
    }

    @Test("started while Mongo is down: 503 until Mongo starts, then ready without a restart")
    func startsWithoutMongo() async throws {
        let port = Ports.free()
        try await AuditHarness.withService(mongoPort: port) { client in
            #expect(try await client.readyStatus() == .serviceUnavailable)
            let refused = try await client.append(#"{"calc": "1+1", "calcResult": 2}"#)
            #expect(refused.status == .serviceUnavailable)
            #expect(try refused.errorMessage().contains("not connected to MongoDB yet"))
            let badRequest = try await client.append(#"{"calc": 1}"#)
            #expect(badRequest.status == .badRequest, "validation does not need the database")

            let mongo = try await MongoServer.start(port: port)
            try await client.waitUntilReady()
            let pool = try MongoClientPool(uri: MongoURI.make(targets: [ServiceTarget(host: "127.0.0.1", port: port)]))
            try await client.waitUntil("the index is created once Mongo is there") { try await AuditHarness.hasIndexOnTs(pool) }
            #expect(try await client.append(#"{"calc": "1+1", "calcResult": 2}"#).status == .created)
            #expect(try await client.list().entries().map(\.calc) == ["1+1"])
            await mongo.stop()
        }
    }

    @Test("Mongo comes back at another address: the connector looks it up again and uses it")
    func mongoMoves() async throws {
        let first = try await MongoServer.start()
        let target = MovableTarget(port: first.port)
        try await AuditHarness.withService(locate: { target.current }) { client in
            try await client.waitUntilReady()
            #expect(try await client.append(#"{"calc": "1+1", "calcResult": 2}"#).status == .created)
            await first.stop()
            let second = try await MongoServer.start()
            target.move(to: second.port)
            try await client.waitUntil("appends reach the moved Mongo") {
                try await client.append(#"{"calc": "2+2", "calcResult": 4}"#).status == .created
            }
            #expect(try await client.list().entries().first?.calc == "2+2")
            await second.stop()
        }
    }
}
