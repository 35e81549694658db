import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import TestSupport
import Testing

@testable import ServiceRuntime

/// One connection's pipeline (NIO's decoder, wrapped, and the runtime's handler) on an
/// EmbeddedChannel: bytes in, answers out, the loop's clock moved by hand. Deterministic — no
/// sockets, no sleeps — so each decision of ConnectionStateMachine is pinned to the event that
/// makes it.
@Suite struct ConnectionStateMachineTests {
    struct TestRoutes: Routes {
        /// `/fill` fills the client's window: the answer makes the channel unwritable, as a write
        /// past NIO's high-water mark does.
        let channel: NIOLoopBound<EmbeddedChannel?>

        func route(_ request: Request) -> Routing {
            switch request.segments.first {
            case "fill":
                .get(
                    request,
                    .now("/fill") { [channel] _ in
                        channel.value?.isWritable = false
                        channel.value?.pipeline.fireChannelWritabilityChanged()
                        return .text("fill")
                    })
            case "echo": .post(request, .now("/echo") { Response(body: $0.body) })
            default: .get(request, .now("/path") { request in .text(String(request.path)) })
            }
        }
    }

    /// Counts the reads the connection lets through to the channel.
    final class ReadCounter: ChannelOutboundHandler {
        typealias OutboundIn = ByteBuffer
        var count = 0

        func read(context: ChannelHandlerContext) {
            count += 1
            context.read()
        }
    }

    final class Connection {
        let channel = EmbeddedChannel()
        let reads = ReadCounter()
        let notice = CloseNotice()
        private var received: [UInt8] = []

        init(requestRead: TimeAmount = .seconds(10), idle: TimeAmount = .seconds(60)) throws {
            let routes = TestRoutes(channel: NIOLoopBound(channel, eventLoop: channel.embeddedEventLoop))
            var logger = Logger(label: "test")
            logger.logLevel = .warning
            let server = ServerContext(
                routes: routes, errors: jsonErrors, maxBodySize: 1024,
                telemetry: RequestTelemetry(metrics: Observability.requestMetrics, logger: logger), logger: logger
            )
            let limits = ConnectionStateMachine.Limits(requestRead: requestRead, idle: idle, maxBodySize: 1024)
            let handler = HTTPConnectionHandler(server: server, limits: limits, notice: notice)
            try channel.pipeline.syncOperations.addHandlers(
                reads, ByteToMessageHandler(ObservedRequestDecoder(connection: handler)), handler
            )
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        }

        func send(_ text: String) throws {
            try channel.writeInbound(ByteBuffer(string: text))
        }

        /// The answers written since the last call, as a client would read them.
        func answers() throws -> [TestHTTPResponse] {
            while var buffer = try channel.readOutbound(as: ByteBuffer.self) {
                received += buffer.readBytes(length: buffer.readableBytes) ?? []
            }
            var answers: [TestHTTPResponse] = []
            while let answer = TestHTTPResponse.parse(received) {
                answers.append(answer)
                received = answer.rest
            }
            return answers
        }

        /// NIO asks the connection to read; whether it let the read through.
        func read() -> Bool {
            let before = reads.count
            channel.read()
            return reads.count > before
        }

        func writable(_ writable: Bool) {
            channel.isWritable = writable
            channel.pipeline.fireChannelWritabilityChanged()
        }

        func advance(_ time: TimeAmount) {
            channel.embeddedEventLoop.advanceTime(by: time)
        }

        var isOpen: Bool { channel.isActive }
    }

    static func get(_ path: String) -> String { "GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n" }

    // MARK: Answers only while the client takes them

    @Test func requestsPipelinedToAClientThatTakesNoAnswersWaitAndNothingMoreIsRead() throws {
        let connection = try Connection()
        connection.writable(false)
        try connection.send(Self.get("/a") + Self.get("/b") + Self.get("/c"))
        #expect(try connection.answers().isEmpty, "answered while the client takes nothing")
        #expect(!connection.read(), "read while requests wait")

        connection.writable(true)
        #expect(try connection.answers().map(\.text) == ["/a", "/b", "/c"])
        #expect(connection.read(), "all answered: reading again")
    }

    @Test func aClientThatStopsTakingAnswersStopsBeingAnsweredAtThatAnswer() throws {
        let connection = try Connection()
        try connection.send(Self.get("/a") + Self.get("/fill") + Self.get("/b") + Self.get("/c"))
        #expect(try connection.answers().map(\.text) == ["/a", "fill"])
        #expect(!connection.read())

        connection.writable(true)
        #expect(try connection.answers().map(\.text) == ["/b", "/c"])
        #expect(connection.read())
    }

    /// The window counts answers to pipelined requests until the kernel takes them: at 16 the
    /// connection stops answering even while NIO's buffer has room.
    @Test func atSixteenUnsentPipelinedAnswersTheConnectionWaits() {
        var machine = ConnectionStateMachine(limits: .init())
        let now = NIODeadline.uptimeNanoseconds(0)
        machine.opened(now: now)
        machine.bytesArrived(ByteBuffer(string: "(20 requests)"), now: now)
        var answered = 0, counted = 0
        func carryOut(_ action: ConnectionStateMachine.PartAction) {
            guard case .respond = action else { return }
            answered += 1
            if machine.answering(keepAlive: true, now: now).counted { counted += 1 }
        }
        /// As HTTPConnectionHandler does after an answer.
        func takeUpWaiting() {
            while case .act(let action) = machine.next(now: now) { carryOut(action) }
        }
        for index in 0..<20 {
            carryOut(machine.received(.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: "/\(index)"))))
            carryOut(machine.received(.end(nil)))
        }
        takeUpWaiting()
        #expect(answered == 17, "the first, then 16 pipelined ones")
        #expect(counted == 16)
        let reads = machine.mayRead()
        #expect(!reads, "read while requests wait")

        machine.answerSent()
        takeUpWaiting()
        #expect(answered == 18, "one more for each answer the kernel took")
    }

    @Test func theBodyOfTheRequestInProgressIsRead() throws {
        let connection = try Connection()
        try connection.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n")
        #expect(connection.read(), "reading the body of the request in progress")
        try connection.send("abc")
        #expect(try connection.answers().map(\.text) == ["abc"])
        #expect(connection.read())
    }

    // MARK: Deadlines

    /// The start of a request pipelined behind a complete one produces no request part, but its
    /// head is timed like any other: closed at the request limit, not the idle one.
    @Test func aPartialRequestPipelinedBehindACompleteOneIsClosedAtTheRequestLimit() throws {
        let connection = try Connection(requestRead: .seconds(10), idle: .seconds(60))
        try connection.send(Self.get("/a") + "GET /b HTTP/1.1\r\nHo")
        #expect(try connection.answers().map(\.text) == ["/a"])
        connection.advance(.seconds(9))
        #expect(connection.isOpen)
        connection.advance(.seconds(2))
        #expect(!connection.isOpen, "the pipelined head was given the idle limit")
    }

    @Test(arguments: [
        ("a request without a body", Self.get("/a")),
        ("a body that ends the read", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"),
        ("a chunked body", "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"),
    ])
    func aConnectionWhoseLastRequestEndedWithTheReadIsIdleNotTimed(what: String, request: String) throws {
        let connection = try Connection(requestRead: .seconds(10), idle: .seconds(60))
        try connection.send(request)
        #expect(try connection.answers().count == 1, "\(what)")
        connection.advance(.seconds(59))
        #expect(connection.isOpen, "\(what): closed before the idle limit")
        connection.advance(.seconds(2))
        #expect(!connection.isOpen, "\(what): open past the idle limit")
    }

    @Test(arguments: ["GET /b HTTP/1.1\r\nHo", "G", "\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r"])
    func aPartialRequestBehindABodyIsClosedAtTheRequestLimit(partial: String) throws {
        let connection = try Connection(requestRead: .seconds(10), idle: .seconds(60))
        try connection.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" + partial)
        #expect(try connection.answers().map(\.text) == ["abc"])
        connection.advance(.seconds(11))
        #expect(!connection.isOpen, "\(partial.debugDescription) after a body was given the idle limit")
    }

    /// Bytes of a head that arrive while the request before is answered: its clock starts when
    /// the connection reads again, not when they arrived (their rest was not read meanwhile).
    @Test func aHeadThatWaitedBehindAnAnswerIsTimedFromWhenTheConnectionReadsAgain() throws {
        let connection = try Connection(requestRead: .seconds(10), idle: .seconds(60))
        connection.writable(false)
        try connection.send(Self.get("/a") + "GET /b HTTP/1.1\r\nHo")
        connection.advance(.seconds(30))
        #expect(connection.isOpen, "timed while it waited")
        connection.writable(true)
        #expect(try connection.answers().map(\.text) == ["/a"])
        connection.advance(.seconds(9))
        #expect(connection.isOpen)
        connection.advance(.seconds(2))
        #expect(!connection.isOpen)
    }

    @Test func aSilentConnectionIsClosedAtTheRequestLimitAndAWholeRequestIsNot() throws {
        let silent = try Connection(requestRead: .seconds(10), idle: .seconds(60))
        silent.advance(.seconds(11))
        #expect(!silent.isOpen)

        let slow = try Connection(requestRead: .seconds(10), idle: .seconds(60))
        slow.advance(.seconds(5))
        try slow.send("GET /a HTTP/1.1\r\n")
        slow.advance(.seconds(4))
        try slow.send("Host: x\r\n\r\n")
        #expect(try slow.answers().count == 1)
        slow.advance(.seconds(30))
        #expect(slow.isOpen)
    }

    // MARK: Closing

    @Test func quiescingClosesAnIdleConnectionAtOnceAndABusyOneAfterItsAnswer() throws {
        let idle = try Connection()
        try idle.send(Self.get("/a"))
        idle.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(!idle.isOpen)

        let busy = try Connection()
        try busy.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n")
        busy.channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        #expect(busy.isOpen, "closed with a request half read")
        try busy.send("abc")
        let answers = try busy.answers()
        #expect(answers.map(\.text) == ["abc"])
        #expect(answers.first?.header("connection") == "close")
        busy.channel.embeddedEventLoop.run()
        #expect(!busy.isOpen)
    }

    @Test func duringTheCloseNoticeEveryAnswerClosesItsConnection() throws {
        let connection = try Connection()
        connection.notice.give()
        try connection.send(Self.get("/a") + Self.get("/b"))
        let answers = try connection.answers()
        #expect(answers.map(\.text) == ["/a"])
        #expect(answers.first?.header("connection") == "close")
        connection.channel.embeddedEventLoop.run()
        #expect(!connection.isOpen)
    }
}
