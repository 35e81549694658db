import ControlSocket

/// `localenv ps|start|stop|restart|logs` reach the running launcher over `<state>/control.sock`
/// (the shared `ControlSocket`); the supervisor answers on the main actor, beside everything else
/// it does.
public enum LocalControl {
    static func socketPath(stateDirectory: String) -> String { stateDirectory + "/control.sock" }

    /// `ps` and `restart webapp` answer at once; 30 s is a launcher that is stuck.
    public static func send(_ request: ControlRequest, stateDirectory: String) throws(LauncherError) -> ControlReply {
        do {
            return try ControlClient.send(request, path: socketPath(stateDirectory: stateDirectory), timeout: .seconds(30))
        } catch .notRunning(let path, let reason) {
            throw LauncherError("no localenv is running with this state folder: nothing answers on \(path) (\(reason))")
        } catch {
            throw LauncherError("the launcher did not answer: \(error)")
        }
    }

    @MainActor
    static func start(stateDirectory: String, supervisor: Supervisor) async throws(LauncherError) -> ControlServer {
        do {
            return try await ControlServer.start(path: socketPath(stateDirectory: stateDirectory)) { request in
                await supervisor.control(request)
            }
        } catch .alreadyRunning(let path) {
            throw LauncherError("another localenv is running with this state folder (\(path) answers): stop it, or pass --state <folder>")
        } catch {
            throw LauncherError("cannot create the control socket: \(error)")
        }
    }
}
