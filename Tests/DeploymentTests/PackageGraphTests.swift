import Foundation
import TestSupport
import Testing

/// The package's shape (Package.swift's header): the product in Sources/, the tooling in tools/,
/// the tests in Tests/ and tools/Tests/, with dependencies pointing one way — product ← tooling ←
/// tests — and, inside the product, C shims → Discovery → ServiceRuntime → adapters → services.
/// Read from `swift package describe`, so these fail when Package.swift breaks the direction.
@Suite("Package graph")
struct PackageGraphTests {
    /// The product's layers, lowest first: a product target depends only on lower layers.
    /// A new product target fails `productTargetsDependOnlyOnLowerLayers` until it is placed here.
    static let productLayers: [Set<String>] = [
        ["CResolv", "CHiredis", "CMongoc", "Contracts", "Platform", "Queueing"],
        ["Discovery"],
        ["ServiceClient"],
        ["ServiceTracing"],
        ["ServiceRuntime"],
        ["RedisAdapter", "MongoAdapter"],
        ["AdderService", "AuditService", "EventService", "WebApp", "Report"],
        ["adderservice", "auditservice", "eventservice", "webapp", "report"],
    ]

    @Test func everyTargetIsInATree() async throws {
        for target in try await PackageDescriptionJSON.current().targets where target.tree == nil {
            Issue.record("\(target.name) is in \(target.path), outside Sources/, tools/Sources/, Tests/ and tools/Tests/")
        }
    }

    @Test func noProductTargetDependsOnToolingOrTests() async throws {
        let package = try await PackageDescriptionJSON.current()
        for target in package.targets where target.tree == .product {
            for dependency in target.localDependencies {
                let tree = try #require(package.target(dependency)?.tree)
                #expect(tree == .product, "\(target.name) (\(target.path)) depends on \(dependency), which is \(tree)")
            }
        }
    }

    @Test func toolingDependsOnNoTests() async throws {
        let package = try await PackageDescriptionJSON.current()
        for target in package.targets where target.tree == .tooling {
            for dependency in target.localDependencies {
                #expect(package.target(dependency)?.tree != .tests, "\(target.name) depends on \(dependency), a test target")
            }
        }
    }

    @Test func productTargetsDependOnlyOnLowerLayers() async throws {
        let package = try await PackageDescriptionJSON.current()
        func layer(_ name: String) -> Int? { Self.productLayers.firstIndex { $0.contains(name) } }
        for target in package.targets where target.tree == .product {
            let own = try #require(layer(target.name), "\(target.name) is in no layer of PackageGraphTests.productLayers")
            // A dependency in no layer is outside the product: noProductTargetDependsOnToolingOrTests reports it.
            for dependency in target.localDependencies {
                guard let theirs = layer(dependency) else { continue }
                #expect(theirs < own, "\(target.name) (layer \(own)) depends on \(dependency) (layer \(theirs))")
            }
        }
    }

    /// A case-insensitive disk (macOS, Windows) cannot hold `Sources/Report` and `Sources/report`.
    @Test func noTwoPathsDifferOnlyByCase() throws {
        let root = TestPaths.packageRoot
        var seen: [String: String] = [:]
        let walk = try #require(
            FileManager.default.enumerator(at: URL(fileURLWithPath: root), includingPropertiesForKeys: nil, options: [.skipsHiddenFiles])
        )
        for case let url as URL in walk {
            let path = String(url.path.dropFirst(root.count))
            if let other = seen.updateValue(path, forKey: path.lowercased()), other != path {
                Issue.record("\(other) and \(path) differ only by case")
            }
        }
        #expect(seen.keys.contains("/sources/discovery"), "the walk saw the package's folders")
    }
}
