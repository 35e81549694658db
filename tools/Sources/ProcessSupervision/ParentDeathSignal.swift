import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Makes the kernel signal a child when its parent dies, even by SIGKILL, so nothing outlives
/// the supervisor. posix_spawn cannot call prctl(PR_SET_PDEATHSIG) between fork and exec, so
/// the command runs under util-linux's `setpriv --pdeathsig`, which sets it and execs the real
/// command (same pid, no extra process). The signal belongs to the spawning *thread*, which is
/// why every child is spawned from `SpawnThread`.
public enum ParentDeathSignal {
    /// `command` under setpriv with `signal` as its parent-death signal, and with the user's
    /// ids when given; unchanged when setpriv is missing.
    public static func wrap(_ command: [String], signal: Int32, user: (uid: Int, gid: Int)? = nil) -> [String] {
        guard let setpriv else { return command }
        var arguments = [setpriv, "--pdeathsig", signalName(signal).replacingOccurrences(of: "SIG", with: "")]
        if let user {
            arguments += ["--reuid", "\(user.uid)", "--regid", "\(user.gid)", "--clear-groups"]
        }
        return arguments + ["--"] + command
    }

    /// util-linux's setpriv.
    public static let setpriv = ["/usr/bin/setpriv", "/bin/setpriv"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
}
