import Foundation
import ProcessSupervision

/// What runs for a container image in the build-folder mode (`rehearse up --bin`, the quick
/// option): our services from the build folder, and the machine's servers (or nx-27017) for the
/// database images.
struct ContainerCommand {
    let binDirectory: String
    /// Pod mount path → host folder, to rewrite paths in the arguments (`--dir /data`).
    let mounts: [(path: String, folder: String)]

    func command(for container: Container) throws(RehearsalError) -> [String] {
        switch ImageReference(container.image).name {
        case "redis": return try redis(container)
        case "mongo": return try mongo(container)
        case let name:
            let path = binDirectory + "/" + name
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw RehearsalError("\(container.name): \(path) is not built (swift build -c release, or --bin)")
            }
            return [path] + container.args.map(hostPath)
        }
    }

    /// The image's entrypoint takes `redis-server …` as its arguments; the data path maps to the volume.
    private func redis(_ container: Container) throws(RehearsalError) -> [String] {
        var arguments = container.command + container.args
        if arguments.first == "redis-server" { arguments.removeFirst() }
        return [try Command.path("redis-server")] + arguments.map(hostPath)
    }

    /// mongod when installed, else nx-27017 (the wire-compatible server on SQLite that stands in
    /// for it here), keeping its data in the volume mounted at /data/db and its files in /tmp's.
    private func mongo(_ container: Container) throws(RehearsalError) -> [String] {
        let port = container.ports.first?.number ?? 27017
        let data = hostPath("/data/db")
        if let mongod = Command.tools.find("mongod") {
            return [mongod, "--port", "\(port)", "--dbpath", data] + container.args
        }
        let scratch = hostPath("/tmp")
        return [
            try Command.path("nx-27017"), "--data-dir", data, "--host", "0.0.0.0", "-p", "\(port)",
            "--pid-file", scratch + "/nx-27017.pid", "--log-file", scratch + "/nx-27017.log",
        ]
    }

    /// A path inside a mount becomes the same path in the mount's folder; anything else is kept.
    func hostPath(_ argument: String) -> String {
        for mount in mounts.sorted(by: { $0.path.count > $1.path.count }) {
            if argument == mount.path { return mount.folder }
            if argument.hasPrefix(mount.path + "/") { return mount.folder + argument.dropFirst(mount.path.count) }
        }
        return argument
    }
}

/// The variables Kubernetes injects into every container for every Service that exists when the
/// pod starts — only Services with a cluster IP (a headless Service has no address to give).
enum ServiceEnvironment {
    static func variables(_ services: [ServiceState]) -> [String: String] {
        var result: [String: String] = [:]
        for state in services {
            guard let address = state.clusterIP, let first = state.service.ports.first else { continue }
            let prefix = state.service.name.uppercased().replacingOccurrences(of: "-", with: "_")
            result["\(prefix)_SERVICE_HOST"] = address
            result["\(prefix)_SERVICE_PORT"] = "\(first.port)"
            result["\(prefix)_PORT"] = "tcp://\(address):\(first.port)"
            for port in state.service.ports {
                if let name = port.name {
                    result["\(prefix)_SERVICE_PORT_\(name.uppercased().replacingOccurrences(of: "-", with: "_"))"] = "\(port.port)"
                }
                let key = "\(prefix)_PORT_\(port.port)_TCP"
                result[key] = "tcp://\(address):\(port.port)"
                result[key + "_PROTO"] = "tcp"
                result[key + "_PORT"] = "\(port.port)"
                result[key + "_ADDR"] = address
            }
        }
        return result
    }
}
