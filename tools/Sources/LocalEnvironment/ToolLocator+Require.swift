import ProcessSupervision

extension ToolLocator {
    public func require(_ name: String, for entry: String) throws(LauncherError) -> String {
        guard let path = find(name) else {
            throw LauncherError("\(entry) needs \(name), which is not on PATH or in .tools/venv/bin: run scripts/setup")
        }
        return path
    }
}
