import Foundation
import ProcessSupervision
import TestSupport
import Testing

@testable import LocalEnvironment

/// A changed file names the services to build again, from the package's own target graph.
@Suite struct TargetGraphTests {
    static let services = ["adderservice", "auditservice", "eventservice", "webapp"]

    /// This package's graph, as the launcher reads it.
    func graph() async throws -> TargetGraph {
        let root = TestPaths.packageRoot
        let dump = await CommandRun.run(
            [try TestPaths.tool("swift"), "package", "--ignore-lock", "dump-package"], workingDirectory: root,
            environment: ProcessInfo.processInfo.environment, errorsToNull: true
        )
        try #require(dump.status == .exited(0), "\(dump.output)")
        return try TargetGraph.parse(Data(dump.output.joined(separator: "\n").utf8), root: root)
    }

    @Test func aSharedLibraryRebuildsEveryServiceThatLinksIt() async throws {
        let graph = try await graph()
        let root = TestPaths.packageRoot
        #expect(graph.products(among: Self.services, affectedBy: [root + "/Sources/ServiceRuntime/ServiceRuntime.swift"]) == Self.services)
        #expect(
            graph.products(among: Self.services, affectedBy: [root + "/Sources/RedisAdapter/RedisClient.swift"])
                == ["eventservice", "webapp"])
    }

    @Test func aServicesOwnSourcesRebuildOnlyThatService() async throws {
        let graph = try await graph()
        let root = TestPaths.packageRoot
        #expect(graph.products(among: Self.services, affectedBy: [root + "/Sources/AdderService/New.swift"]) == ["adderservice"])
        #expect(
            graph.products(among: Self.services, affectedBy: [root + "/Sources/Executables/adderservice/main.swift"]) == ["adderservice"])
        #expect(graph.products(among: Self.services, affectedBy: [root + "/tools/Sources/LocalEnvironment/Launcher.swift"]).isEmpty)
        #expect(graph.products(among: Self.services, affectedBy: [root + "/README.md"]).isEmpty)
    }
}
