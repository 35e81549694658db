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
    /// here into one 55-byte string, eight digits at a time: the library's
    /// `traceParentHeaderValue` interpolates and pads with `String(radix:)`, ~5,000 instructions,
    /// a digit at a time ~1,200, and a traced calculation writes it four times (bench/RESULTS.md,
    /// "Tracing").
    public var traceparent: String {
        String(unsafeUninitializedCapacity: 55) { out in
            let text = UnsafeMutableRawBufferPointer(out)
            text.storeBytes(of: UInt16(0x3030), toByteOffset: 0, as: UInt16.self)  // "00"
            text[2] = UInt8(ascii: "-")
            text[35] = UInt8(ascii: "-")
            text[52] = UInt8(ascii: "-")
            withUnsafeBytes(of: traceID.bytes) { Self.writeHex($0, into: text, at: 3) }
            withUnsafeBytes(of: spanID.bytes) { Self.writeHex($0, into: text, at: 36) }
            let flags = UInt16(truncatingIfNeeded: HexDigits.of(UInt32(flags.rawValue)))  // its last two digits
            text.storeBytes(of: flags.bigEndian, toByteOffset: 53, as: UInt16.self)
            return 55
        }
    }

    /// `id`'s bytes (a multiple of 4) as lowercase hexadecimal at `offset`.
    private static func writeHex(_ id: UnsafeRawBufferPointer, into text: UnsafeMutableRawBufferPointer, at offset: Int) {
        for word in 0..<id.count / 4 {
            let number = UInt32(bigEndian: id.loadUnaligned(fromByteOffset: 4 * word, as: UInt32.self))
            text.storeBytes(of: HexDigits.of(number).bigEndian, toByteOffset: offset + 8 * word, as: UInt64.self)
        }
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

/// Hexadecimal digits eight at a time, computed in a register: a digit at a time cost ~40
/// instructions (ids in log lines and `traceparent`).
public enum HexDigits {
    /// `value`'s eight hexadecimal digits as lowercase ASCII, the first in the most significant byte.
    public static func of(_ value: UInt32) -> UInt64 {
        // Each nibble into a byte of its own, in order…
        var nibbles = UInt64(value)
        nibbles = (nibbles | nibbles << 16) & 0x0000_FFFF_0000_FFFF
        nibbles = (nibbles | nibbles << 8) & 0x00FF_00FF_00FF_00FF
        nibbles = (nibbles | nibbles << 4) & 0x0F0F_0F0F_0F0F_0F0F
        // …then '0' + nibble, and 39 more ('a' - '0' - 10) where the nibble is 10 or more.
        let letters = ((nibbles &+ 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101
        return nibbles &+ 0x3030_3030_3030_3030 &+ letters &* 39
    }
}
