import Foundation

extension ClusterManifest {
    /// The rendered objects of a kustomize overlay (`kubectl kustomize <overlay>`, kubectl from PATH
    /// or `.tools/venv/bin`), or of a file already rendered (`-` for standard input).
    public static func load(overlay: String? = nil, file: String? = nil) async throws -> ClusterManifest {
        if let file {
            let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : try Data(contentsOf: URL(fileURLWithPath: file))
            return try ClusterManifest(yaml: String(decoding: data, as: UTF8.self))
        }
        var overlay = overlay ?? "deployment/overlays/local"
        if !overlay.hasPrefix("/") { overlay = FileManager.default.currentDirectoryPath + "/" + overlay }
        let result = try await Command.run(["kubectl", "kustomize", overlay], environment: Command.baseEnvironment)
        guard result.succeeded else { throw RehearsalError("kubectl kustomize \(overlay) failed: \(result.output)") }
        return try ClusterManifest(yaml: result.output)
    }
}
