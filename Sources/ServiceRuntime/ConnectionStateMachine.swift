import NIOCore
import NIOHTTP1

/// One HTTP/1 connection's decisions, apart from the channel so that each can be tested event by
/// event (ConnectionStateMachineTests): which request is being read or answered, what waits
/// behind it, when the connection reads, answers the next request or closes, and which deadline
/// applies. HTTPConnectionHandler carries them out.
///
/// Memory per connection stays small whatever the client does:
/// - one request is answered at a time; what a client pipelines behind it waits here in order,
///   and nothing more is read while anything waits (a read takes at most 2 kB: HTTPServer);
/// - a request is taken up only while its client takes its answers: the channel is writable
///   (NIO's write buffer under its high-water mark, 16 kB) and fewer than `answerWindow` answers to
///   pipelined requests are still unsent. A client that stops reading stops being answered, and
///   so stops being read.
///
/// Deadlines: a request must arrive whole within `requestRead` of its first byte (or of the
/// connection opening, or of the server reading again after an answer); between requests a
/// keep-alive connection may be idle for `idle`. Between requests means no byte of the next one
/// has arrived, including bytes pipelined behind the request just answered, which NIO's decoder
/// has taken without producing a part yet (`bytesArrived`, `ReadEnd`).
struct ConnectionStateMachine {
    struct Limits {
        var requestRead: TimeAmount = .seconds(10)
        var idle: TimeAmount = .seconds(60)
        var maxBodySize = RuntimeConfig.defaultMaxBodySize
        var answerWindow = 16
    }

    enum Request {
        case idle
        case reading(HTTPRequestHead, ByteBuffer?)
        case responding
        /// Answered and closing (a refusal, a malformed request, `Connection: close`): the rest of
        /// the input is dropped.
        case closing
    }

    /// What a client sent behind the request being answered, in arrival order.
    enum Waiting {
        case part(HTTPServerRequestPart)
        /// NIO's decoder found the bytes malformed: a 400 in its turn.
        case malformed
    }

    /// What the handler does with a request part.
    enum PartAction {
        case none
        /// The client asked before sending its body (`Expect: 100-continue`).
        case sendContinue
        case refuseTooLarge(HTTPRequestHead)
        case respond(HTTPRequestHead, ByteBuffer?)
    }

    /// What the handler does next after an answer, a write or a change of writability.
    enum Next {
        case act(PartAction)
        case refuseMalformed
        case read
        case close
        case wait
    }

    let limits: Limits
    private(set) var request = Request.idle
    private var waiting = CircularBuffer<Waiting>(initialCapacity: 2)
    private var writable = true
    /// Answers to pipelined requests written but not yet handed to the kernel.
    private var unsentAnswers = 0
    /// The request being read or answered was pipelined: its answer counts against the window.
    private var pipelined = false
    /// Requests whose head arrived in the current read.
    private var headsInRead = 0
    /// The channel asked to read while the connection could take nothing; it reads once it can.
    private var readHeld = false
    /// The client has finished sending: no request can follow what has already arrived.
    private var inputClosed = false
    /// The server is shutting down: close after the request in progress.
    private var quiescing = false

    /// When the connection closes unless something happens first; nil while a request is being
    /// answered or waits for its turn (a client may take as long as it likes to read answers).
    private(set) var deadline: NIODeadline?
    /// Bytes of a request that is not complete yet have arrived.
    private var requestBegun = false
    private var lastRead = ReadEnd()
    /// Where the last body chunk of the request being read ends in memory (0: no body).
    private var bodyEnd: UInt = 0

    init(limits: Limits) {
        self.limits = limits
    }

    /// Whether a request may be taken up now.
    private var windowOpen: Bool { writable && unsentAnswers < limits.answerWindow }

    // MARK: Input

    /// The connection is open: its first request must arrive within `requestRead`.
    mutating func opened(now: NIODeadline) {
        requestBegun = true
        deadline = now + limits.requestRead
    }

    /// The channel asks to read: yes unless a request is being answered, anything waits, or the
    /// client is not taking its answers; otherwise the read is held until then.
    mutating func mayRead() -> Bool {
        switch request {
        case .idle, .reading:
            if waiting.isEmpty && writable { return true }
        case .responding, .closing:
            break
        }
        readHeld = true
        return false
    }

    /// Raw bytes arrived, before NIO's decoder turns them into request parts. Until a part shows
    /// where the request they belong to ends, they may start one: its clock starts.
    mutating func bytesArrived(_ buffer: ByteBuffer, now: NIODeadline) {
        lastRead.update(buffer, now: now)
        headsInRead = 0
        beginRequest()
    }

    private mutating func beginRequest() {
        guard !requestBegun else { return }
        requestBegun = true
        if isBetweenRequests { deadline = lastRead.time + limits.requestRead }
    }

    /// No request is being read, answered or waiting.
    private var isBetweenRequests: Bool {
        if case .idle = request { return waiting.isEmpty }
        return false
    }

    /// A part from NIO's decoder: handled now, or kept until the request before it is answered.
    mutating func received(_ part: HTTPServerRequestPart) -> PartAction {
        switch part {
        case .head:
            headsInRead += 1
            beginRequest()
        case .body(let chunk):
            bodyEnd = ReadEnd.address(after: chunk)
        case .end:
            // Bytes after this request's end are the start of the next one (see `ReadEnd`).
            requestBegun = !lastRead.isEnd(ofBody: bodyEnd)
            bodyEnd = 0
        }
        switch request {
        case .reading where waiting.isEmpty:
            return process(part, pipelined: pipelined)
        case .idle where waiting.isEmpty && windowOpen:
            return process(part, pipelined: headsInRead > 1)
        case .idle, .reading, .responding:
            waiting.append(.part(part))
            deadline = nil  // it waits for its turn, not for the client
            return .none
        case .closing:
            return .none
        }
    }

    private mutating func process(_ part: HTTPServerRequestPart, pipelined: Bool) -> PartAction {
        switch part {
        case .head(let head):
            if let declared = head.headers.first(name: "content-length").flatMap(Int.init), declared > limits.maxBodySize {
                close()
                return .refuseTooLarge(head)
            }
            request = .reading(head, nil)
            self.pipelined = pipelined
            let asks = head.version == .http1_1 && head.headers.first(name: "expect")?.lowercased() == "100-continue"
            return asks ? .sendContinue : .none
        case .body(var chunk):
            guard case .reading(let head, let body) = request else { return .none }
            guard var body else {
                guard chunk.readableBytes <= limits.maxBodySize else {
                    close()
                    return .refuseTooLarge(head)
                }
                request = .reading(head, chunk)
                return .none
            }
            guard body.readableBytes + chunk.readableBytes <= limits.maxBodySize else {
                close()
                return .refuseTooLarge(head)
            }
            request = .idle  // one owner of the buffer while it grows
            body.writeBuffer(&chunk)
            request = .reading(head, body)
            return .none
        case .end:
            guard case .reading(let head, let body) = request else { return .none }
            request = .responding
            deadline = nil
            return .respond(head, body)
        }
    }

    /// NIO's decoder found malformed bytes. Whether to refuse them now (400, close); behind a
    /// request being answered they wait their turn.
    mutating func malformed() -> Bool {
        switch request {
        case .idle where waiting.isEmpty, .reading:
            close()
            return true
        case .idle, .responding:
            waiting.append(.malformed)
            deadline = nil
            return false
        case .closing:
            return false
        }
    }

    /// The client finished sending (half-close). Whether to close now: it is answered what has
    /// arrived first.
    mutating func inputEnded() -> Bool {
        inputClosed = true
        return isBetweenRequests
    }

    /// The server is draining. Whether to close now: a request in progress is answered first;
    /// requests waiting behind nothing in progress are not started.
    mutating func quiesce() -> Bool {
        quiescing = true
        if case .idle = request { return true }
        return false
    }

    // MARK: Output

    /// How an answer goes out.
    struct Answer {
        /// The connection stays open after it (`Connection: close` otherwise).
        var keepAlive: Bool
        /// It counts against the window until it is handed to the kernel (`answerSent`).
        var counted = false
        /// Something may be taken up after it (`next`): waiting parts, a held read, a close.
        var followUp = false
    }

    /// The request is answered; `keepAlive` is what the request and the server allow.
    mutating func answering(keepAlive: Bool, now: @autoclosure () -> NIODeadline) -> Answer {
        // A half-closed client hears `Connection: close` on the answer to the last request it sent.
        guard keepAlive, !quiescing, !(inputClosed && waiting.isEmpty) else {
            close()
            return Answer(keepAlive: false)
        }
        request = .idle
        let answer = Answer(keepAlive: true, counted: pipelined, followUp: !waiting.isEmpty || readHeld || inputClosed)
        if pipelined { unsentAnswers += 1 }
        pipelined = false
        if waiting.isEmpty { startClock(now: now()) }
        return answer
    }

    /// A counted answer has been handed to the kernel.
    mutating func answerSent() {
        unsentAnswers -= 1
    }

    mutating func writabilityChanged(to writable: Bool) {
        self.writable = writable
    }

    /// After an answer, a write or a change of writability: the next waiting part if the
    /// connection can take it now, else a held read, else closing once nothing is left to answer.
    mutating func next(now: @autoclosure () -> NIODeadline) -> Next {
        switch request {
        case .idle where !waiting.isEmpty:
            guard windowOpen else { return .wait }
            return take(now: now())
        case .reading where !waiting.isEmpty:
            return take(now: now())
        case .idle where inputClosed || quiescing:
            return .close
        case .idle, .reading:
            guard readHeld, writable else { return .wait }
            readHeld = false
            return .read
        case .responding, .closing:
            return .wait
        }
    }

    private mutating func take(now: NIODeadline) -> Next {
        switch waiting.removeFirst() {
        case .part(let part):
            let action = process(part, pipelined: true)
            if waiting.isEmpty { startClock(now: now) }
            return .act(action)
        case .malformed:
            close()
            return .refuseMalformed
        }
    }

    /// Nothing waits any more and the connection reads again: the idle limit, or the request
    /// limit if a request has begun (its clock restarts: its rest was not read meanwhile).
    private mutating func startClock(now: NIODeadline) {
        switch request {
        case .idle: deadline = now + (requestBegun ? limits.requestRead : limits.idle)
        case .reading: deadline = now + limits.requestRead
        case .responding, .closing: break
        }
    }

    private mutating func close() {
        request = .closing
        waiting.removeAll()
        deadline = nil
    }

    /// The connection's timer fired: close, or when to look again. It looks at least every
    /// `requestRead`, so a deadline that moves earlier is never missed by more than that.
    func deadlineCheck(now: NIODeadline) -> TimeAmount? {
        guard let deadline else { return limits.requestRead }
        return now >= deadline ? nil : min(limits.requestRead, deadline - now)
    }
}

/// Where the bytes of one read end, to tell whether a request that ended in it ended with it.
///
/// NIO's decoder takes every byte of a read, and the start of a request pipelined behind a
/// complete one produces no part: only the read's end shows it. A request ends where the read
/// does if the read ends in the blank line that ends a head (a partial head never can; a
/// chunked body ends in one too), or if its body ends at the same address as the read's bytes.
struct ReadEnd {
    /// When the read arrived.
    var time = NIODeadline.uptimeNanoseconds(0)
    /// The read's last four bytes (fewer reads shift earlier bytes out).
    private var lastBytes: UInt32 = 0
    private var end: UInt = 0

    mutating func update(_ buffer: ByteBuffer, now: NIODeadline) {
        time = now
        let previous = lastBytes
        (end, lastBytes) = buffer.withUnsafeReadableBytes { bytes in
            let end = UInt(bitPattern: bytes.baseAddress) &+ UInt(bytes.count)
            guard bytes.count < 4 else {
                return (end, UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self)))
            }
            return (end, bytes.reduce(previous) { $0 << 8 | UInt32($1) })
        }
    }

    func isEnd(ofBody bodyEnd: UInt) -> Bool {
        lastBytes == 0x0D0A_0D0A || (bodyEnd != 0 && bodyEnd == end)
    }

    /// The address just past `buffer`'s readable bytes. Two buffers with readable bytes that end
    /// at the same address are views of one allocation ending there; NIO's decoder hands out
    /// bodies as views of the read it decoded.
    static func address(after buffer: ByteBuffer) -> UInt {
        buffer.withUnsafeReadableBytes { UInt(bitPattern: $0.baseAddress) &+ UInt($0.count) }
    }
}
