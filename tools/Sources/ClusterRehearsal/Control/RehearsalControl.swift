import ControlSocket

/// `rehearse apply|get|scale|…` reach the running `rehearse up` over its control socket (the
/// shared `ControlSocket`). No client timeout: `run job` waits for the Job to finish.
public enum RehearsalControl {
    public static func send(_ request: ControlRequest, path: String) throws(RehearsalError) -> ControlReply {
        do {
            return try ControlClient.send(request, path: path)
        } catch .notRunning(let path, _) {
            throw RehearsalError("no rehearsal is running (cannot connect to \(path)): start one with `rehearse up`")
        } catch {
            throw RehearsalError("the rehearsal did not answer: \(error)")
        }
    }

    public static func start(path: String, cluster: Cluster) async throws(RehearsalError) -> ControlServer {
        do {
            return try await ControlServer.start(path: path) { await ControlCommands.handle($0, cluster: cluster) }
        } catch {
            throw RehearsalError("control socket: \(error)")
        }
    }
}
