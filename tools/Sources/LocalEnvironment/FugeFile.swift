import Foundation
import Yams

/// `fuge/fuge.yml`, the one description of the local environment, in the seeds' Fuge format:
/// a `fuge_global` block and one top-level entry per process or container, in file order.
public struct FugeFile: Sendable, Equatable {
    public var global: Global
    public var entries: [Entry]

    public struct Global: Sendable, Equatable {
        public var dnsEnabled: Bool
        public var dnsHost: String
        public var dnsPort: Int
        public var dnsNamespace: String
        public var dnsSuffix: String
        /// Fuge's `monitor`: rebuild and restart a service when its sources change (`localenv --watch`).
        public var monitor: Bool
        /// Paths (fnmatch patterns relative to the project root) whose changes do not count.
        public var monitorExcludes: [String]
        /// `environment: [NAME=value, …]`: variables every process entry gets unless the
        /// launcher's own environment sets them.
        public var environment: [String: String]
    }

    public struct Entry: Sendable, Equatable {
        public enum Kind: String, Sendable { case process, container }
        public var name: String
        public var kind: Kind
        /// `process`: the folder the command runs in (relative to the fuge.yml) and the command.
        public var path: String?
        public var run: String?
        /// `container`: the image, which the launcher maps to a local server.
        public var image: String?
        public var ports: [NamedPort]
    }

    /// One `name=number` of an entry's `ports`.
    public struct NamedPort: Sendable, Equatable {
        public var name: String
        public var number: Int

        public init(name: String, number: Int) {
            self.name = name
            self.number = number
        }
    }

    /// Reads and checks the file; errors name the file and the entry or field that is wrong.
    public static func load(path: String) throws(LauncherError) -> FugeFile {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw LauncherError("cannot read \(path): \(error.localizedDescription)")
        }
        return try parse(text, source: path)
    }

    public static func parse(_ text: String, source: String = "fuge.yml") throws(LauncherError) -> FugeFile {
        let root: Node?
        do {
            root = try Yams.compose(yaml: text)
        } catch {
            throw LauncherError("\(source) is not valid YAML: \(error)")
        }
        guard let mapping = root?.mapping else { throw LauncherError("\(source): expected a mapping of entries") }
        var global: Global?
        var entries: [Entry] = []
        for (key, value) in mapping {
            guard let name = key.string else { continue }
            if name == "fuge_global" {
                global = try parseGlobal(value, source: source)
            } else {
                entries.append(try parseEntry(name: name, value, source: source))
            }
        }
        guard let global else { throw LauncherError("\(source): the fuge_global block is missing") }
        guard !entries.isEmpty else { throw LauncherError("\(source): no entries besides fuge_global") }
        return FugeFile(global: global, entries: entries)
    }

    private static func parseGlobal(_ node: Node, source: String) throws(LauncherError) -> Global {
        let field = Fields(node: node, context: "\(source): fuge_global")
        return Global(
            dnsEnabled: try field.bool("dns_enabled") ?? false,
            dnsHost: try field.string("dns_host") ?? "127.0.0.1",
            dnsPort: try field.port("dns_port") ?? 53053,
            dnsNamespace: try field.string("dns_namespace") ?? "micro",
            dnsSuffix: try field.string("dns_suffix") ?? "svc.cluster.local",
            monitor: try field.bool("monitor") ?? false,
            monitorExcludes: try field.strings("monitor_excludes"),
            environment: try field.variables("environment")
        )
    }

    private static func parseEntry(name: String, _ node: Node, source: String) throws(LauncherError) -> Entry {
        let field = Fields(node: node, context: "\(source): entry \(name)")
        guard let typeName = try field.string("type"), let kind = Entry.Kind(rawValue: typeName) else {
            throw LauncherError("\(source): entry \(name) needs `type: process` or `type: container`")
        }
        var entry = Entry(
            name: name, kind: kind, path: try field.string("path"), run: try field.string("run"),
            image: try field.string("image"), ports: try field.ports()
        )
        switch kind {
        case .process where entry.run == nil:
            throw LauncherError("\(source): entry \(name) is a process without `run`")
        case .container where entry.image == nil:
            throw LauncherError("\(source): entry \(name) is a container without `image`")
        default:
            break
        }
        if entry.path == nil { entry.path = "." }
        return entry
    }
}

/// Typed reads of one YAML mapping, with errors naming where they are.
private struct Fields {
    let node: Node
    let context: String

    func string(_ key: String) throws(LauncherError) -> String? {
        guard let value = node[key] else { return nil }
        guard let text = value.string else { throw LauncherError("\(context): \(key) must be a string") }
        return text
    }

    func strings(_ key: String) throws(LauncherError) -> [String] {
        guard let value = node[key] else { return [] }
        guard value.sequence != nil else { throw LauncherError("\(context): \(key) must be a list of strings") }
        var strings: [String] = []
        for item in value.array() {
            guard let text = item.string else { throw LauncherError("\(context): \(key) must be a list of strings") }
            strings.append(text)
        }
        return strings
    }

    func bool(_ key: String) throws(LauncherError) -> Bool? {
        guard let value = node[key] else { return nil }
        guard let flag = value.bool else { throw LauncherError("\(context): \(key) must be true or false") }
        return flag
    }

    func port(_ key: String) throws(LauncherError) -> Int? {
        guard let value = node[key] else { return nil }
        guard let number = value.int, (1...65535).contains(number) else {
            throw LauncherError("\(context): \(key) must be a port number (1-65535)")
        }
        return number
    }

    /// `[NAME=value, …]`, as compose files write environments; a name is `[A-Za-z_][A-Za-z0-9_]*`.
    func variables(_ key: String) throws(LauncherError) -> [String: String] {
        var variables: [String: String] = [:]
        for item in try strings(key) {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = parts[0]
            let valid =
                name.first.map { $0 == "_" || $0.isLetter } == true
                && name.allSatisfy { $0.isASCII && ($0 == "_" || $0.isLetter || $0.isNumber) }
            guard parts.count == 2, valid else { throw LauncherError("\(context): \(key) entry \"\(item)\" is not NAME=value") }
            variables[String(name)] = String(parts[1])
        }
        return variables
    }

    /// `ports: [main=8080, …]`, Fuge's `name=number` strings.
    func ports() throws(LauncherError) -> [FugeFile.NamedPort] {
        guard let value = node["ports"] else { return [] }
        guard value.sequence != nil else { throw LauncherError("\(context): ports must be a list such as [main=8080]") }
        var ports: [FugeFile.NamedPort] = []
        for item in value.array() {
            let parts = (item.string ?? "").split(separator: "=", omittingEmptySubsequences: false)
            guard parts.count == 2, !parts[0].isEmpty, let number = Int(parts[1]), (1...65535).contains(number) else {
                throw LauncherError("\(context): port \"\(item.string ?? "?")\" is not name=number (e.g. main=8080)")
            }
            ports.append(FugeFile.NamedPort(name: String(parts[0]), number: number))
        }
        return ports
    }
}

/// Why the launcher cannot go on: a sentence for a person, printed as is.
public struct LauncherError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
