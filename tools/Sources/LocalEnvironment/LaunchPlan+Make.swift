import Foundation
import ProcessSupervision

extension LaunchPlan {
    /// Reads fuge.yml and works out every command, port and variable; throws (naming the entry)
    /// for anything that would fail later: an unknown override, a missing binary or server.
    public static func make(options: LaunchOptions) throws(LauncherError) -> LaunchPlan {
        let fugePath = absolute(options.fugePath, in: FileManager.default.currentDirectoryPath)
        let fuge = try FugeFile.load(path: fugePath)
        let fugeFolder = (fugePath as NSString).deletingLastPathComponent
        let root = ((fugeFolder as NSString).deletingLastPathComponent as NSString).standardizingPath
        let entries = try applyOverrides(options.portOverrides, to: fuge.entries)
        let dnsPort = options.dnsPort ?? fuge.global.dnsPort
        let state = stateDirectory(fugePath: options.fugePath, stateDirectory: options.stateDirectory)
        var plan = LaunchPlan(
            fuge: fuge, entries: entries, records: nil, components: [], dnsHost: fuge.global.dnsHost, dnsPort: dnsPort,
            stateDirectory: state, projectRoot: root,
            binDirectory: options.binDirectory.map { absolute($0, in: FileManager.default.currentDirectoryPath) }
        )
        if fuge.global.dnsEnabled {
            plan.records = DNSRecords(entries: entries, namespace: fuge.global.dnsNamespace, suffix: fuge.global.dnsSuffix)
        }
        let builder = ComponentBuilder(plan: plan, options: options, fugeFolder: fugeFolder)
        if let records = plan.records { plan.components.append(try builder.dns(records: records)) }
        let selected = try select(options.only, from: fuge.entries)
        for (entry, ports) in zip(fuge.entries, entries.map(\.ports)) where selected.contains(entry.name) {
            if ComponentBuilder.isPrometheus(entry), !options.privileged {
                plan.notes.append(PrometheusStandIn.unprivilegedNote(entry: entry.name, dnsPort: dnsPort))
                continue
            }
            plan.components += try builder.components(for: entry, ports: ports)
        }
        plan.components.sort { $0.role < $1.role }
        return plan
    }

    /// `--state`, else `<root>/.build/localenv` (the root being the folder above fuge.yml's):
    /// where the launcher keeps data, logs and its control socket, and where `localenv ps` looks.
    public static func stateDirectory(fugePath: String, stateDirectory: String?) -> String {
        let here = FileManager.default.currentDirectoryPath
        if let stateDirectory { return absolute(stateDirectory, in: here) }
        let fugeFolder = (absolute(fugePath, in: here) as NSString).deletingLastPathComponent
        return ((fugeFolder as NSString).deletingLastPathComponent as NSString).standardizingPath + "/.build/localenv"
    }

    /// `entry` overrides the entry's first port, `entry.name` its port of that name.
    private static func applyOverrides(
        _ overrides: [String: Int], to entries: [FugeFile.Entry]
    ) throws(LauncherError) -> [(name: String, ports: [FugeFile.NamedPort])] {
        var result = entries.map { (name: $0.name, ports: $0.ports) }
        for (key, port) in overrides.sorted(by: { $0.key < $1.key }) {
            let parts = key.split(separator: ".", maxSplits: 1).map(String.init)
            guard let index = result.firstIndex(where: { $0.name == parts.first }) else {
                throw LauncherError(
                    "--port \(key)=…: fuge.yml has no entry \(parts.first ?? key) (entries: \(entries.map(\.name).joined(separator: ", ")))"
                )
            }
            let ports = result[index].ports
            guard let slot = parts.count == 2 ? ports.firstIndex(where: { $0.name == parts[1] }) : ports.indices.first else {
                throw LauncherError(
                    "--port \(key)=…: entry \(parts[0]) has no port \(parts.count == 2 ? parts[1] : "") (its ports: \(ports.map(\.name).joined(separator: ", ")))"
                )
            }
            result[index].ports[slot].number = port
        }
        return result
    }

    private static func select(_ only: [String]?, from entries: [FugeFile.Entry]) throws(LauncherError) -> Set<String> {
        let names = entries.map(\.name)
        guard let only else { return Set(names) }
        if let unknown = only.first(where: { !names.contains($0) }) {
            throw LauncherError("--only \(unknown): fuge.yml has no entry \(unknown) (entries: \(names.joined(separator: ", ")))")
        }
        return Set(only)
    }

    static func absolute(_ path: String, in folder: String) -> String {
        let joined = path.hasPrefix("/") ? path : folder + "/" + path
        return (joined as NSString).standardizingPath
    }
}
