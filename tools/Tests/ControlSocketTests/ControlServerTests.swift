import ControlSocket
import Foundation
import ProcessSupervision
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The control socket `localenv` and `rehearse up` share, over a real Unix socket: what it
/// answers, and what a hostile or broken client costs it (an over-long line, garbage, a client
/// that sends nothing or never reads).
@Suite struct ControlServerTests {
    @Test func answersOneRequestPerConnectionThenCloses() async throws {
        let server = try await TestServer()
        let reply = try await server.ask(ControlRequest(command: "scale", arguments: ["deployment/webapp", "3"]))
        #expect(reply == ControlReply(output: "scale deployment/webapp 3", exitCode: 0))

        // Whatever follows the first line is ignored; the reply is one line, then the end.
        let raw = try RawConnection(unixSocket: server.path)
        try raw.send(#"{"command":"ps","arguments":[]}"# + "\n" + #"{"command":"second","arguments":[]}"# + "\n")
        let answer = await raw.readUntilClosed(timeout: .seconds(5))
        #expect(answer.closed)
        #expect(try decode(answer.bytes).output == "ps")
        #expect(server.handled == ["scale", "ps"])

        var status = stat()
        #expect(stat(server.path, &status) == 0 && status.st_mode & 0o777 == 0o600, "only its owner may steer the tool")
        await server.stop()
    }

    @Test func aClientThatShutsItsSideDownAfterTheRequestStillGetsTheReply() async throws {
        let server = try await TestServer()
        let raw = try RawConnection(unixSocket: server.path)
        try raw.send(#"{"command":"ps","arguments":[]}"# + "\n")
        raw.shutdownWrite()
        let answer = await raw.readUntilClosed(timeout: .seconds(5))
        #expect(answer.closed && lines(answer.bytes).count == 1, "\(String(decoding: answer.bytes, as: UTF8.self))")
        await server.stop()
    }

    @Test func aLineOverTheLimitIsRefusedWithoutReachingTheHandler() async throws {
        let server = try await TestServer(limits: .init(requestBytes: 64 * 1024))
        let raw = try RawConnection(unixSocket: server.path)
        // 4 MiB without a newline: the server stops reading at its limit, answers and closes.
        let sent = await raw.send([UInt8](repeating: UInt8(ascii: "a"), count: 4 << 20), stoppingAfter: .seconds(5))
        let answer = await raw.readUntilClosed(timeout: .seconds(5))
        #expect(sent < 4 << 20, "the server took the whole line")
        #expect(answer.closed)
        let reply = try decode(answer.bytes)
        #expect(reply.exitCode == 1 && reply.output == "request larger than 65536 bytes", "\(reply)")
        #expect(server.handled.isEmpty)
        #expect(try await server.ask(ControlRequest(command: "after")).output == "after")
        await server.stop()
    }

    @Test(arguments: [
        [0x00, 0xFF, 0xFE, 0x0A],  // not UTF-8
        Array("hello\n".utf8),
        Array("{}\n".utf8),
        Array(#"{"command":5,"arguments":[]}"#.utf8) + [0x0A],
        Array(#"[{"command":"ps","arguments":[]}]"#.utf8) + [0x0A],
        Array(#"{"command":"ps","arguments":[]}"#.utf8),  // then end of input, no newline
    ])
    func garbageIsAnsweredWithAnErrorWithoutReachingTheHandler(_ bytes: [UInt8]) async throws {
        let server = try await TestServer()
        let raw = try RawConnection(unixSocket: server.path)
        try raw.send(bytes)
        raw.shutdownWrite()
        let answer = await raw.readUntilClosed(timeout: .seconds(5))
        #expect(answer.closed)
        let reply = try decode(answer.bytes)
        #expect(reply.exitCode == 1, "\(reply)")
        #expect(server.handled.isEmpty)
        await server.stop()
    }

    @Test func aClientThatSendsNoWholeLineIsClosedAtTheRequestTime() async throws {
        let server = try await TestServer(limits: .init(requestTime: .milliseconds(200)))
        let raw = try RawConnection(unixSocket: server.path)
        try raw.send(#"{"command":"p"#)
        let started = ContinuousClock.now
        let answer = await raw.readUntilClosed(timeout: .seconds(10))
        #expect(answer.closed && answer.bytes.isEmpty)
        #expect(ContinuousClock.now - started < .seconds(5))
        #expect(server.handled.isEmpty)
        await server.stop()
    }

    @Test func theHandlerMayTakeLongerThanTheRequestTime() async throws {
        let server = try await TestServer(limits: .init(requestTime: .milliseconds(100)), delay: .milliseconds(600))
        #expect(try await server.ask(ControlRequest(command: "run-job", arguments: ["job/report"])).output == "run-job job/report")
        await server.stop()
    }

    @Test func aClientThatNeverReadsIsClosedAtTheReplyTimeAndHoldsUpNobody() async throws {
        // 1 MiB: several times what the socket buffers hold, and taken well within the 2 s by a
        // client that reads, even beside the other suites on two cores.
        let size = 1 << 20
        let server = try await TestServer(limits: .init(replyTime: .seconds(2)), outputBytes: size)
        let stuck = try RawConnection(unixSocket: server.path, receiveBuffer: 4096)
        try stuck.send(#"{"command":"logs","arguments":["big"]}"# + "\n")
        // Meanwhile another client is answered in full.
        #expect(try await server.ask(ControlRequest(command: "logs")).output.utf8.count == size)
        try await Task.sleep(for: .seconds(3))
        let answer = await stuck.readUntilClosed(timeout: .seconds(10))
        #expect(answer.closed)
        #expect(answer.bytes.count < size, "the reply was held for a client that did not read")
        await server.stop()
    }

    @Test func aLiveServerIsNotReplacedButAStaleSocketFileIs() async throws {
        let server = try await TestServer()
        await #expect(throws: ControlSocketError.alreadyRunning(path: server.path)) {
            _ = try await ControlServer.start(path: server.path) { _ in .success("") }
        }
        #expect(try await server.ask(ControlRequest(command: "still")).output == "still")
        await server.stop()
        #expect(!FileManager.default.fileExists(atPath: server.path))

        // A socket file nobody listens on, as a killed tool leaves it.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: server.path.utf8) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        close(fd)
        try #require(bound == 0 && FileManager.default.fileExists(atPath: server.path))
        let second = try await TestServer(path: server.path)
        #expect(try await second.ask(ControlRequest(command: "again")).output == "again")
        await second.stop()
    }

    @Test func theClientSaysWhenNothingAnswers() async throws {
        let path = TestPaths.temporaryDirectory(prefix: "control") + "/none.sock"
        #expect(!ControlClient.isAnswering(path: path))
        #expect(throws: ControlSocketError.self) { try ControlClient.send(ControlRequest(command: "ps"), path: path) }
        do {
            _ = try ControlClient.send(ControlRequest(command: "ps"), path: path)
        } catch {
            guard case .notRunning = error else { Issue.record("\(error)"); return }
        }
    }

    /// `localenv` and `rehearse` print the reply's output and exit with its status.
    @Test func bothCommandLinesSpeakIt() async throws {
        let state = TestPaths.temporaryDirectory(prefix: "control")
        let server = try await TestServer(path: state + "/control.sock")
        let localenv = try TestPaths.builtExecutable("localenv")
        let rehearse = try TestPaths.builtExecutable("rehearse")

        let restart = try await CommandResult.execute(localenv, ["restart", "webapp", "--state", state])
        #expect(restart.status == 0 && restart.standardOutput == "restart webapp\n", "\(restart)")
        let refused = try await CommandResult.execute(localenv, ["stop", "fail", "--state", state])
        #expect(refused.status == 3 && refused.standardOutput == "stop fail\n", "\(refused)")
        let scale = try await CommandResult.execute(rehearse, ["scale", "deployment/webapp", "2", "--socket", server.path])
        #expect(scale.status == 0 && scale.standardOutput == "scale deployment/webapp 2", "\(scale)")
        let failed = try await CommandResult.execute(rehearse, ["logs", "fail", "--socket", server.path])
        #expect(failed.status == 3 && failed.standardOutput == "logs fail", "\(failed)")
        #expect(server.handled == ["restart", "stop", "scale", "logs"])
        await server.stop()

        let nobody = try await CommandResult.execute(localenv, ["ps", "--state", state])
        #expect(nobody.status == 1 && nobody.standardError.contains("no localenv is running with this state folder"), "\(nobody)")
        let none = try await CommandResult.execute(rehearse, ["get", "pods", "--socket", server.path])
        #expect(none.status != 0 && none.standardError.contains("no rehearsal is running"), "\(none)")
    }
}

/// A control server on a fresh path whose handler answers the request's words joined by spaces
/// (or `outputBytes` bytes), after `delay`, and remembers which commands reached it.
final class TestServer: Sendable {
    let path: String
    private let server: ControlServer
    private let seen = Locked<[String]>([])

    init(
        path: String? = nil, limits: ControlServer.Limits = .init(), delay: Duration = .zero, outputBytes: Int? = nil
    ) async throws {
        self.path = path ?? TestPaths.temporaryDirectory(prefix: "control") + "/control.sock"
        let seen = seen
        server = try await ControlServer.start(path: self.path, limits: limits) { request in
            seen.withLock { $0.append(request.command) }
            if delay > .zero { try? await Task.sleep(for: delay) }
            let output =
                outputBytes.map { String(repeating: "x", count: $0) } ?? ([request.command] + request.arguments).joined(separator: " ")
            return ControlReply(output: output, exitCode: request.arguments.contains("fail") ? 3 : 0)
        }
    }

    var handled: [String] { seen.withLock { $0 } }

    func ask(_ request: ControlRequest) async throws -> ControlReply {
        let path = path
        return try await blocking { Result { try ControlClient.send(request, path: path, timeout: .seconds(10)) } }.get()
    }

    func stop() async { await server.stop() }
}

func lines(_ bytes: [UInt8]) -> [String] {
    String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
}

func decode(_ bytes: [UInt8]) throws -> ControlReply {
    let line = try #require(lines(bytes).first, "no reply")
    #expect(lines(bytes).count == 1)
    return try JSONDecoder().decode(ControlReply.self, from: Data(line.utf8))
}
