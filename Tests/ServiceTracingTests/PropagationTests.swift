import Logging
import NIOHTTP1
import ServiceTracing
import Testing
import Tracing
import W3CTraceContext

/// W3C Trace Context in and out of HTTP headers, and what a malformed `traceparent` becomes.
@Suite struct PropagationTests {
    static let traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
    static let parentID = "00f067aa0ba902b7"
    static let valid = "00-\(traceID)-\(parentID)-01"

    let tracer = TracingBackend(config: TracingConfig(serviceName: "test", export: .unexported), logger: Logger(label: "test"))!.tracer

    /// The context a server span of a request with these headers would have as its parent.
    func extracted(_ headers: HTTPHeaders) -> ServiceContext {
        var context = ServiceContext.topLevel
        tracer.extract(headers, into: &context, using: HTTPHeadersExtractor())
        return context
    }

    @Test func aValidTraceparentIsContinued() throws {
        let span = tracer.startSpan("GET /", context: extracted(["traceparent": Self.valid, "tracestate": "vendor=x"]), ofKind: .server)
        let own = try #require(span.traceContext)
        #expect(own.traceID.description == Self.traceID)
        #expect(own.spanID.description != Self.parentID)
        #expect(own.isSampled)
        #expect(own.state[.simple("vendor")] == "x")

        var outgoing: HTTPHeaders = [:]
        tracer.inject(span.context, into: &outgoing, using: HTTPHeadersInjector())
        #expect(outgoing["traceparent"] == ["00-\(Self.traceID)-\(own.spanID)-01"])
        #expect(outgoing["tracestate"] == ["vendor=x"])
    }

    @Test func theSampledFlagIsFollowed() throws {
        let unsampled = "00-\(Self.traceID)-\(Self.parentID)-00"
        let span = tracer.startSpan("GET /", context: extracted(["traceparent": unsampled]), ofKind: .server)
        #expect(span.traceContext?.isSampled == false)
        #expect(span.traceContext?.traceID.description == Self.traceID)
    }

    /// W3C: a tracestate that cannot be parsed is dropped, the parent kept.
    @Test func aBadTracestateLeavesTheParent() throws {
        let span = tracer.startSpan("GET /", context: extracted(["traceparent": Self.valid, "tracestate": "=,=,\u{1}"]), ofKind: .server)
        #expect(span.traceContext?.traceID.description == Self.traceID)
        #expect(span.traceContext?.state.isEmpty == true)
    }

    static let malformed: [String] = [
        "01-\(traceID)-\(parentID)-01",  // a version this side does not know
        "ff-\(traceID)-\(parentID)-01",  // the invalid version
        "00-\(traceID.dropLast())-\(parentID)-01",  // short trace id
        "00-\(traceID)a-\(parentID)-01",  // long trace id
        "00-\(traceID)-\(parentID.dropLast())-01",  // short span id
        "00-\(traceID)-\(parentID)-1",  // short flags
        "00-\(traceID)-\(parentID)-01-extra",
        "00-00000000000000000000000000000000-\(parentID)-01",  // all-zero trace id
        "00-\(traceID)-0000000000000000-01",  // all-zero span id
        "00-\(traceID.uppercased())-\(parentID)-01",  // upper-case hex
        "00-4bf92f3577b34da6a3ce929d0e0e473g-\(parentID)-01",  // not hex
        "00_\(traceID)_\(parentID)_01",
        "",
        "00-\(traceID)-\(parentID)-01\n\u{1b}[31m",
    ]

    @Test(arguments: malformed)
    func aMalformedTraceparentStartsANewTrace(header: String) throws {
        let span = tracer.startSpan("GET /", context: extracted(["traceparent": header]), ofKind: .server)
        let own = try #require(span.traceContext)
        #expect(own.traceID.description != Self.traceID)
        #expect(own.traceID != .null)
        // Nothing of the header is in what the span's log lines carry.
        let fields = own.logMetadata.values.map { "\($0)" }.joined(separator: " ")
        #expect(!fields.contains(Self.parentID))
        #expect(fields.allSatisfy { $0.isHexDigit || $0 == " " })
    }

    /// W3C: more than one traceparent is invalid.
    @Test func twoTraceparentsStartANewTrace() throws {
        let other = "00-\(String(Self.traceID.reversed()))-\(Self.parentID)-01"
        let span = tracer.startSpan(
            "GET /", context: extracted(HTTPHeaders([("traceparent", Self.valid), ("TraceParent", other)])), ofKind: .server)
        #expect(span.traceContext?.traceID.description != Self.traceID)
    }

    @Test func childSpansShareTheTraceAndLogTheirOwnIDs() throws {
        let parent = tracer.startSpan("GET /", context: .topLevel, ofKind: .server)
        let child = tracer.startSpan("GET /add", context: parent.context, ofKind: .client)
        #expect(child.traceContext?.traceID == parent.traceContext?.traceID)
        #expect(child.traceContext?.spanID != parent.traceContext?.spanID)
        let metadata = try #require(child.traceContext?.logMetadata)
        #expect(metadata["trace_id"] == .string(try #require(parent.traceContext?.traceID.description)))
        #expect(metadata["span_id"] == .string(try #require(child.traceContext?.spanID.description)))
    }

    @Test func nothingRecordedWhenNothingExports() {
        let span = tracer.startSpan("GET /", context: .topLevel, ofKind: .server)
        span.attributes["http.route"] = "/"
        #expect(!span.isRecording)
        #expect(span.attributes.isEmpty)
    }
}

@Suite struct SamplerTests {
    let parentSampled = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

    func sampledRoots(_ sampler: Sampler, of count: Int = 2000) -> Int {
        let tracer = TracingBackend(
            config: TracingConfig(serviceName: "t", export: .unexported, sampler: sampler), logger: Logger(label: "t"))!.tracer
        return (0..<count).count { _ in tracer.startSpan("x", context: .topLevel).traceContext?.isSampled == true }
    }

    @Test func ratiosSampleTheirShareOfNewTraces() {
        #expect(sampledRoots(.parentBased(root: .always)) == 2000)
        #expect(sampledRoots(.parentBased(root: .never)) == 0)
        #expect(sampledRoots(.parentBased(root: .ratio(0))) == 0)
        #expect(sampledRoots(.parentBased(root: .ratio(1))) == 2000)
        // 2000 fair coins: outside 800...1200 has a probability below 10^-18.
        #expect((800...1200).contains(sampledRoots(.parentBased(root: .ratio(0.5)))))
    }

    @Test func parentBasedFollowsTheParentAndPlainOnesDoNot() {
        func sampled(_ sampler: Sampler, parent: String) -> Bool? {
            let tracer = TracingBackend(
                config: TracingConfig(serviceName: "t", export: .unexported, sampler: sampler), logger: Logger(label: "t"))!.tracer
            var context = ServiceContext.topLevel
            tracer.extract(["traceparent": parent] as HTTPHeaders, into: &context, using: HTTPHeadersExtractor())
            return tracer.startSpan("x", context: context).traceContext?.isSampled
        }
        #expect(sampled(.parentBased(root: .never), parent: parentSampled) == true)
        #expect(sampled(.parentBased(root: .always), parent: String(parentSampled.dropLast()) + "0") == false)
        #expect(sampled(Sampler(root: .never, followsParent: false), parent: parentSampled) == false)
    }

    /// The `traceparent` written here is the one W3C Trace Context's library writes, byte for
    /// byte: every digit value in every place, and flags other than 00 and 01.
    @Test func traceparentIsWrittenAsTheLibraryWritesIt() {
        var random = SystemRandomNumberGenerator()
        let fixed = [
            TraceContext(
                traceID: TraceID(bytes: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1)),
                spanID: SpanID(bytes: (255, 255, 255, 255, 255, 255, 255, 255)), flags: [], state: TraceState()),
            TraceContext(
                traceID: .random(using: &random), spanID: .random(using: &random), flags: TraceFlags(rawValue: 0xAB), state: TraceState()),
        ]
        let randoms = (0..<500).map { _ in
            TraceContext(
                traceID: .random(using: &random), spanID: .random(using: &random), flags: TraceFlags(rawValue: .random(in: 0...255)),
                state: TraceState())
        }
        for context in fixed + randoms {
            #expect(context.traceparent == context.traceParentHeaderValue)
            #expect(TraceContext(traceparent: context.traceparent, tracestate: nil)?.traceID == context.traceID)
        }
    }
}
