import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// The running launcher's control socket, `<state>/control.sock`: a client sends one request
/// line (`ps`, `restart webapp`, …) and reads `ok` or `error`, then the answer, until the
/// launcher closes the connection. Answered on the main actor, beside everything else the
/// supervisor does.
enum ControlServer {
    static func socketPath(stateDirectory: String) -> String { stateDirectory + "/control.sock" }

    /// Binds the socket; a stale file from a launcher that died is replaced, a live one refused.
    @MainActor
    static func start(path: String, supervisor: Supervisor) async throws(LauncherError) -> any Channel {
        if (try? ControlClient.connect(path: path)).map({ close($0) }) != nil {
            throw LauncherError("another localenv is running with this state folder (\(path) answers): stop it, or pass --state <folder>")
        }
        unlink(path)
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ControlHandler(supervisor: supervisor))
                }
            }
        do {
            return try await bootstrap.bind(unixDomainSocketPath: path).get()
        } catch {
            throw LauncherError("cannot create the control socket \(path): \(error)")
        }
    }
}

/// One control connection: collects the request line, has the supervisor answer it, writes the
/// answer and closes.
private final class ControlHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let supervisor: Supervisor
    private var request: [UInt8] = []
    private var answered = false

    init(supervisor: Supervisor) { self.supervisor = supervisor }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        let buffer = unwrapInboundIn(data)
        request += buffer.readableBytesView
        guard let newline = request.firstIndex(of: UInt8(ascii: "\n")) else {
            if request.count > 4096 { context.close(promise: nil) }
            return
        }
        answered = true
        let line = String(decoding: request[..<newline], as: UTF8.self)
        let channel = context.channel
        let supervisor = supervisor
        Task { @MainActor in
            let reply = supervisor.control(line)
            let text = (reply.ok ? "ok\n" : "error\n") + reply.text + "\n"
            channel.writeAndFlush(ByteBuffer(string: text)).whenComplete { _ in channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) { context.close(promise: nil) }
}
