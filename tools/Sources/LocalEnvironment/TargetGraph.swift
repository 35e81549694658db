import Foundation

/// The package's targets and executables, from `swift package dump-package`: which folder each
/// target's sources are in, which targets it depends on, so a changed file names the
/// executables to build again (a change in ServiceRuntime: every service; in AdderService: one).
struct TargetGraph: Sendable, Equatable {
    /// Absolute source folder of each target.
    var paths: [String: String]
    /// Each target's dependencies inside the package.
    var dependencies: [String: [String]]
    /// Each executable product's targets.
    var products: [String: [String]]

    /// Reads dump-package's JSON. Targets without a `path` are in `Sources/<name>` (`Tests/<name>`
    /// for tests), as SwiftPM places them.
    static func parse(_ json: Data, root: String) throws(LauncherError) -> TargetGraph {
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: json)
        } catch {
            throw LauncherError("cannot read the package description: \(error)")
        }
        let names = Set(manifest.targets.map(\.name))
        var graph = TargetGraph(paths: [:], dependencies: [:], products: [:])
        for target in manifest.targets {
            let folder = target.path ?? (target.type == "test" ? "Tests/" : "Sources/") + target.name
            graph.paths[target.name] = LaunchPlan.absolute(folder, in: root)
            graph.dependencies[target.name] = target.dependencies.compactMap(\.localName).filter(names.contains)
        }
        for product in manifest.products where product.type.keys.contains("executable") {
            graph.products[product.name] = product.targets
        }
        return graph
    }

    /// The target whose folder holds `path` (the deepest, when folders nest).
    func target(containing path: String) -> String? {
        paths.filter { path == $0.value || path.hasPrefix($0.value + "/") }.max { $0.value.count < $1.value.count }?.key
    }

    /// Every target `product` is built from.
    func closure(of product: String) -> Set<String> {
        var seen: Set<String> = []
        var queue = products[product] ?? []
        while let next = queue.popLast() {
            guard seen.insert(next).inserted else { continue }
            queue += dependencies[next] ?? []
        }
        return seen
    }

    /// The products among `candidates` built from a target that holds one of `paths`.
    func products(among candidates: [String], affectedBy paths: [String]) -> [String] {
        let changed = Set(paths.compactMap(target(containing:)))
        return candidates.filter { !closure(of: $0).isDisjoint(with: changed) }
    }
}

/// The part of dump-package's JSON the graph needs.
private struct Manifest: Decodable {
    struct Target: Decodable {
        var name: String
        var type: String
        var path: String?
        var dependencies: [Dependency]
    }

    /// `{"byName": ["Discovery", null]}`, `{"target": [...]}` or `{"product": [...]}`.
    struct Dependency: Decodable {
        var byName: [String?]?
        var target: [String?]?

        var localName: String? { (byName ?? target)?.first ?? nil }
    }

    struct Product: Decodable {
        var name: String
        var targets: [String]
        var type: [String: [String]?]
    }

    var targets: [Target]
    var products: [Product]
}
