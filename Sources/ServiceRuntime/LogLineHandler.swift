import Logging
import Platform
import ServiceTracing
import Synchronization

/// One logfmt line per event on standard output, which the container runtime collects:
///
///     ts=2026-11-22T08:21:24.364Z level=info service=adderservice msg=request method=GET ms=0.364 path=/add/2/3 request_id=2ffa… status=200
///
/// Written here rather than using swift-log's StreamLogHandler because that one formats its
/// timestamp with strftime on every line and builds the line through string interpolation, which
/// costs a large share of a small request (bench/RESULTS.md, "Figures behind the code").
/// Each line is one write(2), so lines from concurrent requests never interleave.
struct LogLineHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider? {
        didSet { tracesContext = false }
    }
    /// The provider is `Logger.MetadataProvider.traceContext`, which adds nothing outside a span:
    /// the request log line, written outside any, may then skip it (`RequestTelemetry`).
    private(set) var tracesContext: Bool

    /// `tracesContext`: every line written inside a span carries its `trace_id` and `span_id`.
    init(label: String, tracesContext: Bool = false) {
        self.label = label
        self.metadataProvider = tracesContext ? .traceContext : LoggingSystem.metadataProvider
        self.tracesContext = tracesContext
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = LogLine()
        line.timestampField()
        line.field("level", event.level.rawValue)
        line.field("service", label)
        line.field("msg", "\(event.message)")
        for (key, value) in self.metadata.sorted(by: { $0.key < $1.key }) where event.metadata?[key] == nil {
            line.field(key, "\(value)")
        }
        if let provided = metadataProvider?.get() {
            // The logger's own and the line's values win (a request's logger already has its ids).
            for (key, value) in provided.sorted(by: { $0.key < $1.key }) where self.metadata[key] == nil && event.metadata?[key] == nil {
                line.field(key, "\(value)")
            }
        }
        if let own = event.metadata {
            for (key, value) in own.sorted(by: { $0.key < $1.key }) { line.field(key, "\(value)") }
        }
        line.emit(to: STDOUT_FILENO)
    }
}

/// A logfmt line: `key=value` pairs; a value with a space, `"`, `=` or a control character is
/// quoted and escaped, so every line parses back into the same pairs.
struct LogLine {
    private(set) var bytes: [UInt8] = []

    init() {
        bytes.reserveCapacity(256)
    }

    /// `ts=2026-11-22T08:21:24.364Z`, written into the line without an intermediate string.
    mutating func timestampField() {
        if !bytes.isEmpty { bytes.append(UInt8(ascii: " ")) }
        bytes.append(contentsOf: "ts=".utf8)
        Timestamp.append(to: &bytes)
    }

    /// `key=123`: digits need no quoting.
    mutating func field(_ key: StaticString, integer value: Int) {
        key.withUTF8Buffer { append(key: $0) }
        Self.appendDecimal(value, to: &bytes)
    }

    /// Decimal digits of `value`, zero-padded to `width`.
    static func appendDecimal(_ value: Int, to bytes: inout [UInt8], width: Int = 1) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        let start = bytes.count
        var rest = value.magnitude
        repeat {
            bytes.append(UInt8(ascii: "0") + UInt8(rest % 10))
            rest /= 10
        } while rest > 0 || bytes.count - start < width
        bytes[start...].reverse()
    }

    mutating func field(_ key: String, _ value: String) {
        var key = key, value = value
        key.withUTF8 { key in value.withUTF8 { append(key: key, value: $0) } }
    }

    mutating func field(_ key: StaticString, _ value: Substring) {
        var value = value
        value.withUTF8 { value in key.withUTF8Buffer { append(key: $0, value: value) } }
    }

    /// `key=` and `value`'s bytes in lowercase hexadecimal, two digits each (trace and span ids,
    /// as `traceparent` writes them; their length is a multiple of 4).
    mutating func field(_ key: StaticString, hex value: UnsafeRawBufferPointer) {
        key.withUTF8Buffer { append(key: $0) }
        // Eight digits at a time, computed in a register, into a buffer on the stack, then one
        // copy: a digit at a time cost ~40 instructions.
        precondition(value.count <= 16 && value.count % 4 == 0, "an id of 4, 8, 12 or 16 bytes")
        var digits: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &digits) { digits in
            for word in 0..<value.count / 4 {
                let number = UInt32(bigEndian: value.loadUnaligned(fromByteOffset: 4 * word, as: UInt32.self))
                digits.storeBytes(of: HexDigits.of(number).bigEndian, toByteOffset: 8 * word, as: UInt64.self)
            }
        }
        withUnsafeBytes(of: &digits) { digits in
            bytes.append(contentsOf: UnsafeRawBufferPointer(rebasing: digits[..<(2 * value.count)]))
        }
    }

    /// `key=0.052`: milliseconds with microsecond precision.
    mutating func field(_ key: StaticString, milliseconds duration: Duration) {
        key.withUTF8Buffer { append(key: $0) }
        appendMilliseconds(duration)
    }

    /// Fields already written as logfmt, e.g. a prefix every line of a kind shares.
    mutating func append(fields: [UInt8]) {
        if !bytes.isEmpty { bytes.append(UInt8(ascii: " ")) }
        bytes.append(contentsOf: fields)
    }

    /// Hexadecimal digits of `value`, lowercase, as `String(value, radix: 16)` writes them.
    mutating func appendHexadecimal(_ value: UInt64) {
        let start = bytes.count
        var rest = value
        repeat {
            let digit = UInt8(rest & 0xF)
            bytes.append(digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10)
            rest >>= 4
        } while rest > 0
        bytes[start...].reverse()
    }

    /// "0.052" for 52 µs, without Double's costly description.
    mutating func appendMilliseconds(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let micros = max(0, Int(seconds) * 1_000_000 + Int(attoseconds / 1_000_000_000_000))
        Self.appendDecimal(micros / 1000, to: &bytes)
        bytes.append(UInt8(ascii: "."))
        Self.appendDecimal(micros % 1000, to: &bytes, width: 3)
    }

    private mutating func append(key: UnsafeBufferPointer<UInt8>) {
        if !bytes.isEmpty { bytes.append(UInt8(ascii: " ")) }
        bytes.append(contentsOf: key)
        bytes.append(UInt8(ascii: "="))
    }

    private mutating func append(key: UnsafeBufferPointer<UInt8>, value: UnsafeBufferPointer<UInt8>) {
        append(key: key)
        guard value.isEmpty || value.contains(where: Self.needsQuoting) else {
            bytes.append(contentsOf: value)
            return
        }
        bytes.append(UInt8(ascii: "\""))
        for byte in value { appendEscaped(byte) }
        bytes.append(UInt8(ascii: "\""))
    }

    private static func needsQuoting(_ byte: UInt8) -> Bool {
        byte <= 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "=") || byte == 0x7F
    }

    private mutating func appendEscaped(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\"")])
        case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
        case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
        case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
        case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
        case 0..<0x20, 0x7F: bytes.append(contentsOf: Array("\\u00\(byte < 0x10 ? "0" : "")\(String(byte, radix: 16))".utf8))
        default: bytes.append(byte)
        }
    }

    /// The line and its newline in one write(2); a partial write is continued, EINTR retried.
    mutating func emit(to descriptor: Int32) {
        bytes.append(UInt8(ascii: "\n"))
        bytes.withUnsafeBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, base + offset, buffer.count - offset)
                if written > 0 { offset += written } else if written < 0 && errno == EINTR { continue } else { return }
            }
        }
    }
}

/// ISO-8601 UTC timestamps with milliseconds. The calendar part changes once a second, so it is
/// formatted (gmtime_r) only then and reused by every line within that second.
enum Timestamp {
    private static let cache = Mutex<(second: Int, text: String)>((-1, ""))

    /// Appends the current time's UTF-8 bytes.
    static func append(to bytes: inout [UInt8]) {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        let second = Int(spec.tv_sec)
        cache.withLock { cache in
            if cache.second != second { cache = (second, format(second)) }
            bytes.append(contentsOf: cache.text.utf8)
        }
        bytes.append(UInt8(ascii: "."))
        LogLine.appendDecimal(Int(spec.tv_nsec) / 1_000_000, to: &bytes, width: 3)
        bytes.append(UInt8(ascii: "Z"))
    }

    /// "2026-11-22T08:21:24"
    static func format(_ second: Int) -> String {
        var time = time_t(second)
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))"
            + "T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))"
    }
}
