/// Kept so that older call sites compile: servers that close the descriptors they inherit
/// (dnsmasq does) once needed a supervising shell, because Foundation's `Process` learned of
/// an exit through such a descriptor. `ServerProcess` reaps each child with waitpid(2) on a
/// thread of its own now, so the command is returned unchanged.
public enum SupervisedCommand {
    /// `executable arguments`, unchanged.
    public static func wrapping(_ executable: String, _ arguments: [String]) throws -> (executable: String, arguments: [String]) {
        (executable, arguments)
    }
}
