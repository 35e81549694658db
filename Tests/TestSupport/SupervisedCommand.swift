/// Runs a server that closes the file descriptors it inherits (dnsmasq does, at start) under a
/// small shell that stays its parent.
///
/// Why: Foundation.Process on Linux learns that a child ended when a socket it passed to the
/// child closes, and then calls a *blocking* waitpid on one thread shared by every Process. A
/// child that closes that socket while running parks that thread in waitpid until the child
/// really exits, and meanwhile no other child's exit is noticed: parallel tests that stop servers
/// hang. The shell keeps the socket open, forwards SIGTERM/SIGINT to the server and waits for it;
/// `setpriv --pdeathsig KILL` makes SIGKILL of the shell (`ServerProcess.kill9`) kill the server too
/// (the server must not change its uid or gid, which clears that: dnsmasq gets `--group=root`).
public enum SupervisedCommand {
    private static let script = """
        "$@" &
        child=$!
        trap 'kill -TERM "$child" 2>/dev/null' TERM INT
        while :; do
            wait "$child"; status=$?
            kill -0 "$child" 2>/dev/null || exit "$status"
        done
        """

    /// The command line that runs `executable arguments` under the supervising shell.
    public static func wrapping(_ executable: String, _ arguments: [String]) throws -> (executable: String, arguments: [String]) {
        let setpriv = try TestPaths.tool("setpriv")
        return ("/bin/sh", ["-c", script, "supervised", setpriv, "--pdeathsig", "KILL", "--", executable] + arguments)
    }
}
