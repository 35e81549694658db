import Tracing
import W3CTraceContext

/// An OTLP `ExportTraceServiceRequest` in protobuf's wire format, written directly: the few
/// messages a span needs (opentelemetry/proto/trace/v1/trace.proto and common/v1/common.proto;
/// field numbers as there) do not justify swift-protobuf and its generated types in every
/// service (bench/RESULTS.md, "Tracing").
enum OTLPEncoding {
    static func request(_ spans: [FinishedSpan], serviceName: String) -> [UInt8] {
        var resource = ProtobufWriter()
        resource.message(1, keyValue("service.name", .string(serviceName)))
        resource.message(1, keyValue("telemetry.sdk.language", .string("swift")))
        resource.message(1, keyValue("telemetry.sdk.name", .string("micro")))
        var scope = ProtobufWriter()
        scope.string(1, "micro")
        var scopeSpans = ProtobufWriter()
        scopeSpans.message(1, scope)
        for span in spans { scopeSpans.message(2, encode(span)) }
        var resourceSpans = ProtobufWriter()
        resourceSpans.message(1, resource)
        resourceSpans.message(2, scopeSpans)
        var request = ProtobufWriter()
        request.message(1, resourceSpans)
        return request.bytes
    }

    static func encode(_ span: FinishedSpan) -> ProtobufWriter {
        var writer = ProtobufWriter()
        writer.bytes(1, span.traceContext.traceID.bytesArray)
        writer.bytes(2, span.traceContext.spanID.bytesArray)
        if let state = span.traceContext.traceStateHeaderValue { writer.string(3, state) }
        if let parent = span.parentSpanID { writer.bytes(4, parent.bytesArray) }
        writer.string(5, span.name)
        writer.varint(6, kind(span.kind))
        writer.fixed64(7, span.start)
        writer.fixed64(8, span.end)
        for (key, value) in span.attributes.sortedPairs { writer.message(9, keyValue(key, value)) }
        for event in span.events {
            var encoded = ProtobufWriter()
            encoded.fixed64(1, event.nanosecondsSinceEpoch)
            encoded.string(2, event.name)
            for (key, value) in event.attributes.sortedPairs { encoded.message(3, keyValue(key, value)) }
            writer.message(11, encoded)
        }
        for link in span.links {
            var encoded = ProtobufWriter()
            encoded.bytes(1, link.traceID.bytesArray)
            encoded.bytes(2, link.spanID.bytesArray)
            writer.message(13, encoded)
        }
        if let status = span.status {
            var encoded = ProtobufWriter()
            if let message = status.message { encoded.string(2, message) }
            encoded.varint(3, status.code == .ok ? 1 : 2)
            writer.message(15, encoded)
        }
        return writer
    }

    /// SpanKind: INTERNAL 1, SERVER 2, CLIENT 3, PRODUCER 4, CONSUMER 5.
    static func kind(_ kind: SpanKind) -> UInt64 {
        switch kind {
        case .server: 2
        case .client: 3
        case .producer: 4
        case .consumer: 5
        default: 1
        }
    }

    /// KeyValue { key = 1; AnyValue value = 2 }; AnyValue { string 1, bool 2, int 3, double 4, array 5 }.
    static func keyValue(_ key: String, _ value: SpanAttribute) -> ProtobufWriter {
        var writer = ProtobufWriter()
        writer.string(1, key)
        writer.message(2, anyValue(value))
        return writer
    }

    static func anyValue(_ value: SpanAttribute) -> ProtobufWriter {
        var writer = ProtobufWriter()
        switch value {
        case .string(let text): writer.string(1, text)
        case .bool(let flag): writer.varint(2, flag ? 1 : 0)
        case .int32(let number): writer.varint(3, UInt64(bitPattern: Int64(number)))
        case .int64(let number): writer.varint(3, UInt64(bitPattern: number))
        case .double(let number): writer.fixed64(4, number.bitPattern)
        case .stringArray(let values): writer.message(5, array(values.map(SpanAttribute.string)))
        case .int64Array(let values): writer.message(5, array(values.map(SpanAttribute.int64)))
        case .int32Array(let values): writer.message(5, array(values.map(SpanAttribute.int32)))
        case .doubleArray(let values): writer.message(5, array(values.map(SpanAttribute.double)))
        case .boolArray(let values): writer.message(5, array(values.map(SpanAttribute.bool)))
        case .stringConvertibleArray(let values): writer.message(5, array(values.map { .string("\($0)") }))
        case .stringConvertible(let value): writer.string(1, "\(value)")
        default: writer.string(1, "\(value)")
        }
        return writer
    }

    private static func array(_ values: [SpanAttribute]) -> ProtobufWriter {
        var writer = ProtobufWriter()
        for value in values { writer.message(1, anyValue(value)) }
        return writer
    }
}

/// Protobuf's wire format, the parts OTLP spans use: varints (wire type 0), fixed 64-bit (1)
/// and length-delimited bytes, strings and messages (2).
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ field: Int, _ value: UInt64) {
        tag(field, wireType: 0)
        appendVarint(value)
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        tag(field, wireType: 1)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func bytes(_ field: Int, _ value: [UInt8]) {
        tag(field, wireType: 2)
        appendVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }

    mutating func string(_ field: Int, _ value: String) {
        bytes(field, Array(value.utf8))
    }

    mutating func message(_ field: Int, _ value: ProtobufWriter) {
        bytes(field, value.bytes)
    }

    private mutating func tag(_ field: Int, wireType: UInt64) {
        appendVarint(UInt64(field) << 3 | wireType)
    }

    private mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(rest & 0x7F) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }
}

extension SpanAttributes {
    /// In key order, so an encoded span is the same bytes every time.
    var sortedPairs: [(String, SpanAttribute)] {
        var pairs: [(String, SpanAttribute)] = []
        forEach { key, value in pairs.append((key, value)) }
        return pairs.sorted { $0.0 < $1.0 }
    }
}

extension TraceID {
    var bytesArray: [UInt8] { withUnsafeBytes(of: bytes) { Array($0) } }
}

extension SpanID {
    var bytesArray: [UInt8] { withUnsafeBytes(of: bytes) { Array($0) } }
}
