import Foundation
import TestSupport

/// The part of `swift package describe --type json` the graph tests read.
struct PackageDescriptionJSON: Decodable {
    enum Tree: String { case product, tooling, tests }

    struct Target: Decodable {
        var name: String
        var path: String
        var targetDependencies: [String]?

        var localDependencies: [String] { targetDependencies ?? [] }

        /// Which tree the target's folder is in; a folder outside them fails the test that reads it.
        var tree: Tree? {
            if path.hasPrefix("Sources/") { return .product }
            if path.hasPrefix("tools/Sources/") { return .tooling }
            if path.hasPrefix("Tests/") || path.hasPrefix("tools/Tests/") { return .tests }
            return nil
        }

        enum CodingKeys: String, CodingKey {
            case name, path
            case targetDependencies = "target_dependencies"
        }
    }

    var targets: [Target]

    func target(_ name: String) -> Target? { targets.first { $0.name == name } }

    /// This package's description, read once per test run. `--ignore-lock`: `swift test` holds the
    /// build folder's lock.
    static func current() async throws -> PackageDescriptionJSON { try await described.value }

    private static let described = Task {
        let json = try await Repository.run(TestPaths.tool("swift"), ["package", "--ignore-lock", "describe", "--type", "json"])
        return try JSONDecoder().decode(PackageDescriptionJSON.self, from: Data(json.utf8))
    }
}
