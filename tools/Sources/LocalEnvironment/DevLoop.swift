import Foundation
import ProcessSupervision

/// Watch mode (fuge.yml's `monitor: true`): a change under `Sources/` builds again the services
/// built from the changed targets, then replaces each running one by its new version (a rolling
/// restart, see `PortForwarder`). A failed build prints the compiler's errors once and leaves
/// the running versions alone; the next change tries again, with whatever still needs building.
@MainActor
final class DevLoop {
    private let supervisor: Supervisor
    private let root: String
    private let build: [String]
    private let environment: [String: String]
    /// Product name → the entries that run it.
    private let entries: [String: [String]]
    private var graph: TargetGraph?
    private var watcher: SourceWatcher?
    /// Products to build on the next round: changed since their last good build.
    private var dirty: Set<String> = []
    private var building = false
    /// A change arrived while the current build ran: a failed build is then retried at once.
    private var changedDuringBuild = false

    init(supervisor: Supervisor, root: String, build: [String], environment: [String: String]) {
        self.supervisor = supervisor
        self.root = root
        self.build = build
        self.environment = environment
        var entries: [String: [String]] = [:]
        for spec in supervisor.plan.components where spec.role == .service {
            entries[(spec.executable as NSString).lastPathComponent, default: []].append(spec.name)
        }
        self.entries = entries
    }

    /// Reads the target graph (once), then watches `Sources/`.
    func start() async {
        let tools = ToolLocator(environment: environment, projectRoot: root)
        guard let swift = tools.find("swift") else {
            supervisor.say("watch: swift is not on PATH: not watching")
            return
        }
        // --ignore-lock: reading the manifest is safe beside a build that holds .build's lock.
        let dump = await CommandRun.run(
            [swift, "package", "--ignore-lock", "dump-package"], workingDirectory: root, environment: environment,
            errorsToNull: true
        )
        do {
            guard dump.status == .exited(0) else { throw LauncherError(dump.output.suffix(5).joined(separator: "\n")) }
            graph = try TargetGraph.parse(Data(dump.output.joined(separator: "\n").utf8), root: root)
        } catch {
            supervisor.say("watch: cannot read the package's targets (\(error)): not watching")
            return
        }
        let watched = entries.keys.filter { graph?.products[$0] != nil }.sorted()
        guard !watched.isEmpty else {
            supervisor.say("watch: no service started here is built by this package: not watching")
            return
        }
        do {
            watcher = try SourceWatcher.start(
                folder: root + "/Sources", root: root, excludes: supervisor.plan.fuge.global.monitorExcludes
            ) { paths in
                Task { @MainActor in self.changed(paths) }
            }
        } catch {
            supervisor.say("watch: \(error): not watching")
            return
        }
        supervisor.watchStatus = "watching Sources/ for \(watched.joined(separator: ", "))"
        supervisor.say(
            "watching Sources/: a change builds and replaces \(watched.joined(separator: ", ")) (\(build.joined(separator: " ")))")
    }

    func stop() { watcher?.stop() }

    private func changed(_ paths: [String]) {
        guard let graph else { return }
        let affected = graph.products(among: Array(entries.keys), affectedBy: paths)
        guard !affected.isEmpty || !dirty.isEmpty else { return }
        dirty.formUnion(affected)
        let names = paths.map { $0.hasPrefix(root + "/") ? String($0.dropFirst(root.count + 1)) : $0 }
        let shown = names.prefix(3).joined(separator: ", ") + (names.count > 3 ? " and \(names.count - 3) more" : "")
        supervisor.say("changed: \(shown)")
        guard !building else {
            changedDuringBuild = true
            return
        }
        building = true
        Task { await rebuild() }
    }

    /// Builds until nothing is dirty, or until a build fails (then waits for the next change).
    private func rebuild() async {
        defer { building = false }
        while !dirty.isEmpty, !supervisor.stopping {
            let products = dirty.sorted()
            dirty = []
            changedDuringBuild = false
            supervisor.watchStatus = "building \(products.joined(separator: ", "))"
            let started = ContinuousClock.now
            if let failure = await buildAll(products) {
                dirty.formUnion(products)
                supervisor.say(failure)
                supervisor.watchStatus = "the last build failed; the running versions keep serving until a change builds"
                if changedDuringBuild { continue }
                return
            }
            supervisor.say("built \(products.joined(separator: ", ")) in \(Announcement.seconds(ContinuousClock.now - started))")
            supervisor.watchStatus = "watching Sources/"
            for product in products {
                for name in entries[product] ?? [] {
                    if let component = supervisor.component(name), !component.held { _ = supervisor.restart(component) }
                }
            }
        }
    }

    /// Builds each product in turn; on the first failure, the compiler's report (once: the other
    /// products would fail on the same error).
    private func buildAll(_ products: [String]) async -> String? {
        for product in products {
            let result = await CommandRun.run(build + ["--product", product], workingDirectory: root, environment: environment)
            guard result.status == .exited(0) else { return Self.report(product: product, result) }
        }
        return nil
    }

    /// The compiler's errors from the build's output, each with its source excerpt and once:
    /// the driver reports an error both when it emits the module and when it compiles the file,
    /// and SwiftPM's own warnings and progress lines say nothing about the edit.
    static func report(product: String, _ result: CommandRun) -> String {
        var blocks: [[String]] = []
        var current: [String]?
        for line in result.output {
            let isHeader =
                !line.hasPrefix(" ")
                && (line.contains(": error: ") || line.contains(": warning: ")
                    || line.contains(": note: ") || line.hasPrefix("error: ") || line.hasPrefix("warning: ") || line.hasPrefix("["))
            if isHeader {
                if let current { blocks.append(current) }
                let wanted = line.contains("error: ") && !line.contains("command failed with exit code")
                current = wanted ? [line] : nil
            } else if current != nil {
                current?.append(line)
            }
        }
        if let current { blocks.append(current) }
        var seen: Set<[String]> = []
        var lines = blocks.filter { seen.insert($0).inserted }.joined().filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        if lines.isEmpty { lines = Array(result.output.suffix(20)) }
        return (["build of \(product) failed (\(result.status)); the running version keeps serving:"] + lines.map { "  " + $0 })
            .joined(separator: "\n")
    }
}
