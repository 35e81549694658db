import Foundation
import TestSupport
import Testing

@testable import ClusterRehearsal

/// The issue's scenarios, each on a cluster of its own built from the real local overlay: real
/// network namespaces, BIND, nftables, and the images run by podman (or, for a quick run, the
/// service binaries, redis-server and nx-27017: RehearsedCluster). Needs root (CI runs as
/// root). Every measurement is printed with a `rehearsal:` prefix.
@Suite(.serialized) struct ScenarioTests {
    @Test("(a) the webapp at the node address: add, audit and events end to end; the report Job prints the counts")
    func endToEnd() async throws {
        try await RehearsedCluster.run { rehearsal in
            let page = try await rehearsal.get("/add")
            #expect(page.status == 200)
            let sum = try await rehearsal.calculate(1234, 4321)
            #expect(sum.status == 200)
            #expect(sum.body.contains("1234 + 4321 = <strong>5555</strong>"), "\(sum.body)")
            let audited = try await rehearsal.eventually { try await rehearsal.get("/audit").body.contains("1234+4321") }
            #expect(audited, "the calculation never reached the audit page")
            // Events are counted per route of the webapp, whatever Host the request carried.
            var counts: [String: Int] = [:]
            let reported = try await rehearsal.eventually {
                counts = try await rehearsal.report()
                return counts["/add"] == 1 && counts["/add/calculate"] == 1 && (counts["/audit"] ?? 0) >= 1
            }
            #expect(reported, "report counts: \(counts)")
            print("rehearsal: (a) report counts \(counts.sorted { $0.key < $1.key })")
        }
    }

    @Test("(b) adderservice ×3: requests spread over every replica; one deleted under wrk load, no failed request")
    func scaleAndDeleteUnderLoad() async throws {
        try await RehearsedCluster.run { rehearsal in
            try await rehearsal.cluster.scale("adderservice", replicas: 3)
            try await rehearsal.cluster.waitUntilSettled()
            // The webapp's DNS answer lives 5 s: keep asking until all three have had requests.
            var spread: [String: Int] = [:]
            let everyReplica = try await rehearsal.eventually(.seconds(30)) {
                for number in 0..<30 { _ = try await rehearsal.calculate(number, 1) }
                spread = await rehearsal.adderRequests()
                return spread.count == 3 && spread.values.allSatisfy { $0 > 0 }
            }
            #expect(everyReplica, "requests per adderservice pod: \(spread)")
            // Now that the webapp knows all three, round robin gives each a third.
            for number in 0..<60 { _ = try await rehearsal.calculate(number, 1) }
            let after = await rehearsal.adderRequests()
            let share = after.map { pod, count in count - (spread[pod] ?? 0) }.sorted()
            print("rehearsal: (b) requests per adderservice pod while finding them \(spread.values.sorted()), then of 60: \(share)")
            #expect(share.count == 3 && share.allSatisfy { (15...25).contains($0) }, "of 60 requests: \(after) after \(spread)")

            async let load = Load.run(rehearsal, seconds: 12)
            try await Task.sleep(for: .seconds(3))
            let victim = try #require(await rehearsal.pods("adderservice").first?.name)
            try await rehearsal.cluster.deletePod(victim)
            let replaced = try await rehearsal.secondsUntilReplaced("adderservice", replicas: 3, excluding: [victim])
            let result = try await load
            print(
                "rehearsal: (b) delete \(victim) under load: \(result.summary); replacement ready \(String(format: "%.1f", replaced)) s after deletion"
            )
            #expect(result.requests > 0, "\(result.output)")
            #expect(result.failed == 0, "\(result.output)")
        }
    }

    @Test("(c) rolling updates of webapp and of adderservice under wrk load: no failed request")
    func rollingUpdatesUnderLoad() async throws {
        try await RehearsedCluster.run { rehearsal in
            let before = Set(await rehearsal.cluster.podList().map(\.name))
            // Each load outlasts its rollout by the old pod's preStop (7 s) and shutdown.
            async let webappLoad = Load.run(rehearsal, seconds: 14)
            try await Task.sleep(for: .seconds(2))
            let start = ContinuousClock.now
            try await rehearsal.cluster.restart("webapp")
            let webappTime = (ContinuousClock.now - start).seconds
            let webapp = try await webappLoad
            print(
                "rehearsal: (c) webapp rolling update under load: \(webapp.summary); new pod ready, old deleted after \(String(format: "%.1f", webappTime)) s"
            )

            async let adderLoad = Load.run(rehearsal, seconds: 14)
            try await Task.sleep(for: .seconds(2))
            let adderStart = ContinuousClock.now
            try await rehearsal.cluster.restart("adderservice")
            let adderTime = (ContinuousClock.now - adderStart).seconds
            let adder = try await adderLoad
            print(
                "rehearsal: (c) adderservice rolling update under load: \(adder.summary); new pod ready, old deleted after \(String(format: "%.1f", adderTime)) s"
            )

            for workload in ["webapp", "adderservice"] {
                let pods = await rehearsal.pods(workload)
                #expect(pods.count == 1 && pods.allSatisfy { !before.contains($0.name) && $0.ready }, "\(workload): \(pods)")
            }
            #expect(webapp.requests > 0 && adder.requests > 0)
            #expect(adder.failed == 0, "\(adder.output)")
            // Zero: after SIGTERM ServiceRuntime answers `Connection: close` for a moment
            // (ConnectionDrain), so no keep-alive client sends a request into a closing socket.
            #expect(webapp.failed == 0, "\(webapp.output)")
        }
    }

    @Test("(d) eventservice killed with SIGKILL while events flow, then restarted: exact totals")
    func eventServiceKilled() async throws {
        try await RehearsedCluster.run { rehearsal in
            let host = "scenario-d.test"
            let pod = try #require(await rehearsal.pods("eventservice").first?.name)
            // Counts are per route, whatever the Host: this scenario's views are what /add gains.
            let before = try await rehearsal.report()["/add"] ?? 0
            let sent = try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in 0..<4 {
                    group.addTask {
                        var ok = 0
                        for number in 0..<100 {
                            if worker == 0 && number == 30 { try await rehearsal.cluster.killPod(pod) }
                            if try await rehearsal.get("/add", host: host).status == 200 { ok += 1 }
                        }
                        return ok
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(sent == 400)
            let restarted = await rehearsal.eventually {
                await rehearsal.pods("eventservice").first { $0.name == pod }.map { $0.restarts == 1 && $0.ready } ?? false
            }
            #expect(restarted, "eventservice was not restarted in place")
            var counts: [String: Int] = [:]
            let exact = try await rehearsal.eventually(.seconds(30)) {
                counts = try await rehearsal.report()
                return counts["/add"] == before + sent
            }
            print(
                "rehearsal: (d) eventservice SIGKILLed mid-stream: \(sent) page views sent, report counts \((counts["/add"] ?? 0) - before) more"
            )
            #expect(exact, "report: \(counts)")
        }
    }

    @Test("(e) mongo pod deleted and recreated on the same volume: audit history intact, auditservice ready again unrestarted")
    func mongoRecreated() async throws {
        try await RehearsedCluster.run { rehearsal in
            let sums = (1...5).map { (1000 + $0, 2000 + $0) }
            for (first, second) in sums { #expect(try await rehearsal.calculate(first, second).status == 200) }
            let stored = try await rehearsal.eventually {
                let page = try await rehearsal.get("/audit").body
                return sums.allSatisfy { page.contains("\($0.0)+\($0.1)") }
            }
            #expect(stored, "calculations not audited before the deletion")
            let audit = try #require(await rehearsal.pods("auditservice").first)
            try await rehearsal.cluster.deletePod("mongo-0")
            let start = ContinuousClock.now
            await rehearsal.cluster.waitUntilGone("mongo-0")
            let gone = ContinuousClock.now
            let replaced = try await rehearsal.secondsUntilReplaced("mongo", replicas: 1, excluding: [])
            let auditReady = await rehearsal.eventually(.seconds(30)) {
                await rehearsal.pods("auditservice").contains { $0.name == audit.name && $0.ready }
            }
            let after = await rehearsal.pods("auditservice").first { $0.name == audit.name }
            #expect(auditReady && after?.restarts == 0, "auditservice after mongo came back: \(String(describing: after))")
            let intact = try await rehearsal.eventually {
                let page = try await rehearsal.get("/audit")
                return page.status == 200 && sums.allSatisfy { page.body.contains("\($0.0)+\($0.1)") }
            }
            #expect(intact, "audit history lost")
            print(
                "rehearsal: (e) mongo-0 deleted: gone after \(String(format: "%.1f", (gone - start).seconds)) s, new mongo-0 ready \(String(format: "%.1f", (gone - start).seconds + replaced)) s after deletion; auditservice ready again, restarts \(after?.restarts ?? -1)"
            )
        }
    }
}
