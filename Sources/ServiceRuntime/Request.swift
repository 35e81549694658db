import Logging
import NIOCore
import NIOHTTP1
import ServiceTracing

/// One HTTP request, read whole (bodies are small here and bounded by the runtime's body limit).
public struct Request: Sendable {
    public let head: HTTPRequestHead
    /// The path's segments after the leading `/`, percent-decoded: `/add/%35/1` → `["add", "5", "1"]`,
    /// `/` → `[]`, `/add//3` → `["add", "", "3"]`.
    public let segments: [String]
    /// The raw path, without the query.
    public let path: Substring
    /// The raw query string after `?`, if any.
    public let query: Substring?
    /// The body, empty when there was none.
    public let body: ByteBuffer
    /// Names the request in its log lines and in 500 answers.
    public var id: String { requestID.description }
    let requestID: RequestID
    let baseLogger: Logger
    /// The request's server span; nil when tracing is off.
    let span: MicroSpan?

    /// The server span's context as W3C `traceparent`, for what the request hands on (a queue
    /// message); nil when tracing is off. Handlers' own calls find the span as
    /// `ServiceContext.current`.
    public var traceparent: String? { span?.traceContext?.traceparent }

    public var method: HTTPMethod { head.method }
    public var headers: HTTPHeaders { head.headers }

    /// The service's logger carrying this request's id and, when it is traced, its server
    /// span's `trace_id` and `span_id`, for handlers that log.
    public var logger: Logger {
        var logger = baseLogger
        logger[metadataKey: RequestTelemetry.idKey] = .string(id)
        if let trace = span?.traceContext {
            for (key, value) in trace.logMetadata { logger[metadataKey: key] = value }
        }
        return logger
    }

    /// nil when the target is neither origin-form (`/…`) nor absolute-form (`http://host/…`), or
    /// a segment is not valid percent-encoded UTF-8.
    init?(head: HTTPRequestHead, body: ByteBuffer, id: RequestID, logger: Logger, span: MicroSpan? = nil) {
        guard let target = Self.originForm(of: head.uri) else { return nil }
        let (path, query) = Self.split(target)
        guard let segments = Self.segments(of: path) else { return nil }
        self.head = head
        self.segments = segments
        self.path = path
        self.query = query
        self.body = body
        self.requestID = id
        self.baseLogger = logger
        self.span = span
    }

    /// An HTTP/1.1 request names exactly one Host (RFC 9112 §3.2: otherwise 400); HTTP/1.0 may
    /// name none. Counted on the names' bytes: `headers["host"]` would build an array per request.
    static func hasValidHost(_ head: HTTPRequestHead) -> Bool {
        guard head.version.major == 1, head.version.minor >= 1 else { return true }
        var hosts = 0
        for (name, _) in head.headers where isHost(name) { hosts += 1 }
        return hosts == 1
    }

    /// ASCII case-insensitive (`| 0x20` lowers a letter and maps no other byte onto one of these).
    /// `elementsEqual` over `String.UTF8View` costs more than the whole check (bench/RESULTS.md, "Figures behind the code").
    private static func isHost(_ name: String) -> Bool {
        guard name.utf8.count == 4 else { return false }
        var name = name
        return name.withUTF8 { bytes in
            bytes[0] | 0x20 == UInt8(ascii: "h") && bytes[1] | 0x20 == UInt8(ascii: "o")
                && bytes[2] | 0x20 == UInt8(ascii: "s") && bytes[3] | 0x20 == UInt8(ascii: "t")
        }
    }

    /// The path part of a request target, for the log line: up to the `?`, if there is one.
    static func path(of uri: String) -> Substring {
        split(originForm(of: uri) ?? uri[...]).path
    }

    /// Path and query of an origin-form target, split at the first `?` (found among the UTF-8
    /// bytes: a Character-wise search pays for grapheme breaking). An absolute-form target
    /// without a path (`http://host`, `http://host?q`) asks for `/`.
    private static func split(_ target: Substring) -> (path: Substring, query: Substring?) {
        let queryStart = target.utf8.firstIndex(of: UInt8(ascii: "?"))
        let path = target[..<(queryStart ?? target.endIndex)]
        return (path.isEmpty ? "/" : path, queryStart.map { target[target.utf8.index(after: $0)...] })
    }

    /// The origin-form part of a request target: the target itself when it starts with `/`, and
    /// what follows the authority in absolute-form (`http://host/p?q` → `/p?q`), which RFC 9112
    /// §3.2.2 says a server must accept although clients send it only to proxies. nil for `*`,
    /// authority-form (these services are no proxies), other schemes and an empty host.
    static func originForm(of uri: String) -> Substring? {
        if uri.utf8.first == UInt8(ascii: "/") { return uri[...] }
        guard let colon = uri.utf8.firstIndex(of: UInt8(ascii: ":")), uri[colon...].hasPrefix("://"),
            ["http", "https"].contains(uri[..<colon].lowercased())
        else { return nil }
        let authority = uri[uri.utf8.index(colon, offsetBy: 3)...]
        let pathStart = authority.utf8.firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? authority.endIndex
        return pathStart == authority.startIndex ? nil : authority[pathStart...]
    }

    /// `/a/b` → `["a", "b"]`, each percent-decoded; one pass over the bytes (a `/` is always
    /// the one byte: no Character-wise search, which pays for grapheme breaking).
    private static func segments(of path: Substring) -> [String]? {
        var path = path
        return path.withUTF8 { bytes -> [String]? in
            // Origin-form ("/…"): absolute-form was cut to it by `originForm(of:)`.
            guard bytes.first == UInt8(ascii: "/") else { return nil }
            var segments: [String] = []
            guard bytes.count > 1 else { return segments }  // "/" alone: no segments
            var start = 1  // past the leading "/"
            while start <= bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: "/") { end += 1 }
                let segment = UnsafeBufferPointer(rebasing: bytes[start..<end])
                guard let decoded = PercentDecoding.decode(segment, plusIsSpace: false) else { return nil }
                segments.append(decoded)
                start = end + 1
            }
            return segments
        }
    }

    /// The first value of `name` in the query string, percent-decoded (`+` is a space).
    public func queryParameter(_ name: String) -> String? {
        guard let query else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard PercentDecoding.decode(parts[0], plusIsSpace: true) == name else { continue }
            return parts.count > 1 ? PercentDecoding.decode(parts[1], plusIsSpace: true) : ""
        }
        return nil
    }
}

/// `%XX` escapes in URL components.
public enum PercentDecoding {
    /// nil for a broken escape or bytes that are not UTF-8. Components without `%` (the usual
    /// case) are returned without a byte-by-byte pass.
    public static func decode(_ component: Substring, plusIsSpace: Bool = false) -> String? {
        var component = component
        return component.withUTF8 { decode($0, plusIsSpace: plusIsSpace) }
    }

    static func decode(_ utf8: UnsafeBufferPointer<UInt8>, plusIsSpace: Bool) -> String? {
        let escaped = utf8.contains { $0 == UInt8(ascii: "%") || (plusIsSpace && $0 == UInt8(ascii: "+")) }
        // Bytes of a Swift string are valid UTF-8: decoding them cannot repair anything.
        guard escaped else { return String(decoding: utf8, as: UTF8.self) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            index += 1
            if byte == UInt8(ascii: "+") && plusIsSpace {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%") {
                guard index + 1 < utf8.count, let high = hexValue(utf8[index]), let low = hexValue(utf8[index + 1]) else { return nil }
                index += 2
                bytes.append(high << 4 | low)
            } else {
                bytes.append(byte)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
