import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// SIGINT, SIGTERM and SIGHUP as a stream of signal numbers, through a classic self-pipe: the C
/// handler only write(2)s the number (async-signal-safe) and a thread reads it.
///
/// Hand-written rather than Dispatch signal sources (or swift-service-lifecycle's UnixSignals,
/// built on them) because those need the signal set to SIG_IGN, and an ignored signal stays
/// ignored across exec; `Spawn` resets every signal for the children anyway, but a caught
/// signal is also what any other spawn would expect. SIGPIPE gets a handler that does nothing:
/// the launcher must survive a closed log reader.
public enum SignalWatcher {
    public static let watched: [Int32] = [SIGINT, SIGTERM, SIGHUP]

    /// Installs the handlers (once per process) and calls `onSignal` on a thread of its own for each signal.
    public static func start(onSignal: @escaping @Sendable (Int32) -> Void) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        _ = fcntl(fds[1], F_SETFL, fcntl(fds[1], F_GETFL) | O_NONBLOCK)
        signalPipeWriteEnd = fds[1]
        for number in watched { install(number, handler: forwardSignal) }
        install(SIGPIPE, handler: { _ in })
        let readEnd = fds[0]
        let thread = Thread {
            var byte: UInt8 = 0
            while true {
                let count = read(readEnd, &byte, 1)
                if count < 0 && errno == EINTR { continue }
                guard count == 1 else { return }
                onSignal(Int32(byte))
            }
        }
        thread.name = "localenv-signals"
        thread.start()
    }

    private static func install(_ number: Int32, handler: @escaping @convention(c) (Int32) -> Void) {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = handler
        action.sa_flags = SA_RESTART
        sigemptyset(&action.sa_mask)
        sigaction(number, &action, nil)
    }
}

/// The self-pipe's write end, for the C handler (which cannot capture anything). Written once,
/// before the handlers are installed.
nonisolated(unsafe) private var signalPipeWriteEnd: Int32 = -1

private func forwardSignal(_ number: Int32) {
    var byte = UInt8(truncatingIfNeeded: number)
    _ = write(signalPipeWriteEnd, &byte, 1)
}
