import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// posix_spawn(3) with what a supervisor needs, and a waitpid(2) per child.
///
/// Hand-written rather than Foundation's `Process` because on Linux `Process` notices an exit
/// through a socket the child inherits: dnsmasq closes every inherited descriptor at start, so
/// Foundation's single monitor thread then blocks in waitpid() for dnsmasq and misses every
/// other exit until dnsmasq ends. It also passes on the spawning thread's signal mask (Dispatch
/// workers block SIGTERM). swift-subprocess gets those right but spawns from whichever pool
/// thread runs the task, and the parent-death signal (see `ParentDeathSignal`) is tied to the
/// spawning *thread*; here every spawn runs on `SpawnThread`, which lives as long as the launcher.
public enum Spawn {
    /// Starts `arguments[0]` (a path) in its own process group, with default signal handling,
    /// nothing blocked, stdin from /dev/null, and stdout+stderr into `output` (a pipe's write end);
    /// stderr into `errors` instead when given.
    public static func start(
        arguments: [String], environment: [String: String], workingDirectory: String, output: Int32,
        errors: Int32? = nil
    ) throws(SpawnError) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, errors ?? output, 2)
        guard GNUSpawnActions.addChdir(&actions, workingDirectory) == 0 else {
            throw SpawnError("cannot set the working directory \(workingDirectory) for \(arguments[0])")
        }
        _ = GNUSpawnActions.addCloseFrom(&actions, 3)  // best effort: our descriptors are close-on-exec anyway
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t()
        sigemptyset(&none)
        var everything = sigset_t()
        sigemptyset(&everything)
        for number in Int32(1)..<32 where number != SIGKILL && number != SIGSTOP { sigaddset(&everything, number) }
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &everything)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        let argv = CStrings(arguments)
        let envp = CStrings(environment.map { "\($0.key)=\($0.value)" }.sorted())
        defer { argv.free(); envp.free() }
        var pid = pid_t()
        let result = posix_spawn(&pid, arguments[0], &actions, &attributes, argv.pointers, envp.pointers)
        guard result == 0 else {
            throw SpawnError("cannot start \(arguments[0]): \(String(cString: strerror(result)))")
        }
        return pid
    }

    /// Blocks until `pid` ends and reaps it.
    public static func wait(_ pid: pid_t) -> ExitStatus {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return .exited(-1) }
        }
        // The W* macros are not visible from Swift: low 7 bits = terminating signal, else exit code.
        let signal = status & 0x7f
        return signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }

    /// A pipe whose ends are not inherited by children (close-on-exec); the spawn dups the write end.
    public static func pipe() throws(SpawnError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard Glibc.pipe(&fds) == 0 else { throw SpawnError("pipe() failed: \(String(cString: strerror(errno)))") }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }
}

/// glibc's `posix_spawn_file_actions_addchdir_np` (2.29) and `…_addclosefrom_np` (2.34), which
/// Swift's Glibc module does not export; looked up by name, as swift-subprocess does.
private enum GNUSpawnActions {
    typealias AddChdir = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, UnsafePointer<CChar>) -> Int32
    typealias AddCloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32

    nonisolated(unsafe) private static let handle = dlopen(nil, RTLD_NOW)
    private static let chdir = dlsym(handle, "posix_spawn_file_actions_addchdir_np")
        .map { unsafeBitCast($0, to: AddChdir.self) }
    private static let closeFrom = dlsym(handle, "posix_spawn_file_actions_addclosefrom_np")
        .map { unsafeBitCast($0, to: AddCloseFrom.self) }

    static func addChdir(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ path: String) -> Int32 {
        chdir.map { $0(actions, path) } ?? ENOSYS
    }

    static func addCloseFrom(_ actions: UnsafeMutablePointer<posix_spawn_file_actions_t>, _ from: Int32) -> Int32 {
        closeFrom.map { $0(actions, from) } ?? ENOSYS
    }
}

/// A NULL-terminated array of C strings for argv/envp.
private struct CStrings {
    let pointers: [UnsafeMutablePointer<CChar>?]

    init(_ strings: [String]) {
        pointers = strings.map { strdup($0) } + [nil]
    }

    func free() {
        for pointer in pointers { Glibc.free(pointer) }
    }
}

/// A child could not be started; the message names the command and the system's reason.
public struct SpawnError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
