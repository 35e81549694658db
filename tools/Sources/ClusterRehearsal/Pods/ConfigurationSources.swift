import Foundation

/// The Secrets and ConfigMaps the cluster was given, and what the kubelet takes from them for a
/// container: `secretKeyRef` variables and `secret`/`configMap` volumes, resolved when the
/// container starts (a Secret applied later is seen by the next start, as in Kubernetes).
struct ConfigurationSources: Sendable {
    var secrets: [String: [String: String]] = [:]
    var configMaps: [String: [String: String]] = [:]

    /// Adds (or replaces) what `manifest` brings; nothing is pruned, as `kubectl apply` prunes nothing.
    mutating func merge(_ manifest: ClusterManifest) {
        secrets.merge(manifest.secrets) { $1 }
        configMaps.merge(manifest.configMaps) { $1 }
    }

    /// The container's variables in order, each `secretKeyRef` replaced by the key's value. A
    /// missing Secret or key (not marked optional) is the kubelet's CreateContainerConfigError:
    /// the container does not start.
    func environment(of container: Container) throws(RehearsalError) -> [(name: String, value: String)] {
        var resolved: [(name: String, value: String)] = []
        for (name, value) in container.environment {
            switch value {
            case .value(let text):
                resolved.append((name, text))
            case .secretKey(let secret, let key, let optional):
                guard let data = secrets[secret] else {
                    if optional { continue }
                    throw RehearsalError("CreateContainerConfigError: secret \"\(secret)\" not found (variable \(name))")
                }
                guard let text = data[key] else {
                    if optional { continue }
                    throw RehearsalError("CreateContainerConfigError: couldn't find key \(key) in Secret \(secret) (variable \(name))")
                }
                resolved.append((name, text))
            }
        }
        return resolved
    }

    /// The files of a `secret` or `configMap` volume: path in the volume → contents. A missing
    /// object (not optional) or item key stops the pod, as a failed mount does.
    func files(_ volume: VolumeFiles) throws(RehearsalError) -> [String: String] {
        let source = volume.kind == .secret ? secrets[volume.name] : configMaps[volume.name]
        guard let data = source else {
            if volume.optional { return [:] }
            throw RehearsalError("FailedMount: \(volume.kind.rawValue.lowercased()) \"\(volume.name)\" not found")
        }
        guard let items = volume.items else { return data }
        var files: [String: String] = [:]
        for (key, path) in items {
            guard let text = data[key] else {
                throw RehearsalError("FailedMount: couldn't find key \(key) in \(volume.kind.rawValue) \(volume.name)")
            }
            guard !path.hasPrefix("/"), !path.split(separator: "/").contains("..") else {
                throw RehearsalError("FailedMount: item path \(path) of \(volume.kind.rawValue) \(volume.name) leaves the volume")
            }
            files[path] = text
        }
        return files
    }

    /// Writes the volume's files into `folder` as a kubelet does: mode `defaultMode`, owned by
    /// root and the pod's fsGroup (root's group without one).
    func write(_ volume: VolumeFiles, into folder: String, fsGroup: Int?) throws {
        for (path, text) in try files(volume) {
            let file = folder + "/" + path
            try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            guard
                FileManager.default.createFile(atPath: file, contents: Data(text.utf8), attributes: [.posixPermissions: volume.defaultMode])
            else { throw RehearsalError("cannot write \(file)") }
            chown(file, 0, gid_t(fsGroup ?? 0))
        }
    }
}
