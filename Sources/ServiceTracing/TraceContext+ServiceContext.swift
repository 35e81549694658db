import ServiceContextModule
import W3CTraceContext

extension ServiceContext {
    /// The span this context belongs to: its trace, its own id and whether the trace is sampled.
    /// Set by `MicroTracer.startSpan` for the span's own context, and by `extract` for a parent
    /// that arrived from another process.
    public var traceContext: TraceContext? {
        get { self[TraceContextKey.self] }
        set { self[TraceContextKey.self] = newValue }
    }
}

private enum TraceContextKey: ServiceContextKey {
    typealias Value = TraceContext
    static var nameOverride: String? { "w3c-trace-context" }
}

extension TraceContext {
    /// Whether the trace is recorded (the `sampled` flag).
    public var isSampled: Bool { flags.contains(.sampled) }

    /// `traceparent` as W3C Trace Context writes it, `00-<trace id>-<span id>-<flags>`. Written
    /// here into one 55-byte string: the library's `traceParentHeaderValue` interpolates and pads
    /// with `String(radix:)`, ~5,000 instructions, and a traced calculation writes it five times
    /// (bench/RESULTS.md, "Tracing").
    public var traceparent: String {
        String(unsafeUninitializedCapacity: 55) { out in
            var at = 0
            func put(_ byte: UInt8) {
                out[at] = byte
                at += 1
            }
            func hex<Bytes>(_ value: Bytes) {
                withUnsafeBytes(of: value) { bytes in
                    for byte in bytes {
                        put(Self.hexDigit(byte >> 4))
                        put(Self.hexDigit(byte & 0x0F))
                    }
                }
            }
            put(UInt8(ascii: "0"))
            put(UInt8(ascii: "0"))
            put(UInt8(ascii: "-"))
            hex(traceID.bytes)
            put(UInt8(ascii: "-"))
            hex(spanID.bytes)
            put(UInt8(ascii: "-"))
            hex(flags.rawValue)
            return at
        }
    }

    /// Lowercase, as W3C Trace Context requires.
    static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
    }

    /// The header pair's parse, or nil when `traceparent` is missing or malformed: the caller
    /// then starts a new trace. A malformed `tracestate` alone is dropped (W3C: the parent
    /// stays). Nothing of a malformed value is kept, so none of it reaches a log line.
    public init?(traceparent: String?, tracestate: String?) {
        guard let traceparent else { return nil }
        if let tracestate, let context = try? TraceContext(traceParentHeaderValue: traceparent, traceStateHeaderValue: tracestate) {
            self = context
        } else if let context = try? TraceContext(traceParentHeaderValue: traceparent) {
            self = context
        } else {
            return nil
        }
    }
}

extension TraceID {
    /// The id's 56 lowest bits, which W3C Trace Context (level 2) promises to be random.
    var low56: UInt64 {
        withUnsafeBytes(of: bytes) { raw in
            raw[9..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        }
    }
}
