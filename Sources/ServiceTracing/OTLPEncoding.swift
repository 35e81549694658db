import Synchronization
import Tracing
import W3CTraceContext

/// An OTLP `ExportTraceServiceRequest` in protobuf's wire format, written directly: the few
/// messages a span needs (opentelemetry/proto/trace/v1/trace.proto and common/v1/common.proto;
/// field numbers as there) do not justify swift-protobuf and its generated types in every
/// service (bench/RESULTS.md, "Tracing").
///
/// Each message's size is worked out before it is written, so the whole request is written
/// once, front to back, into one buffer: a buffer per nested message and the copies between
/// them cost ~35,000 instructions a span, more than a whole `GET /add/2/3`.
enum OTLPEncoding {
    static func request(_ spans: [MicroSpan], serviceName: String) -> [UInt8] {
        let resource = [("service.name", serviceName), ("telemetry.sdk.language", "swift"), ("telemetry.sdk.name", "micro")]
        let resourceSize = resource.reduce(0) { $0 + Size.field(1, Size.keyValue($1.0, .string($1.1))) }
        let scopeSize = Size.field(1, "micro".utf8.count)
        // Each span is read under its lock (uncontended: it has ended), not copied out.
        let spanSizes = spans.map { span in span.state.withLock { size(span, &$0) } }
        let scopeSpansSize = Size.field(1, scopeSize) + spanSizes.reduce(0) { $0 + Size.field(2, $1) }
        let resourceSpansSize = Size.field(1, resourceSize) + Size.field(2, scopeSpansSize)

        var writer = ProtobufWriter(capacity: Size.field(1, resourceSpansSize))
        writer.header(1, length: resourceSpansSize)
        writer.header(1, length: resourceSize)
        for (key, value) in resource { writer.keyValue(1, key, .string(value)) }
        writer.header(2, length: scopeSpansSize)
        writer.header(1, length: scopeSize)
        writer.string(1, "micro")
        for (span, spanSize) in zip(spans, spanSizes) {
            writer.header(2, length: spanSize)
            span.state.withLock { write(span, &$0, into: &writer) }
        }
        return writer.bytes
    }

    /// Span { trace_id 1, span_id 2, trace_state 3, parent_span_id 4, name 5, kind 6,
    /// start_time_unix_nano 7, end_time_unix_nano 8, attributes 9, events 11, links 13, status 15 }
    static func size(_ span: MicroSpan, _ state: inout MicroSpan.State) -> Int {
        var size = Size.field(1, 16) + Size.field(2, 8) + Size.field(5, nameLength(state.name))
        if let traceState = span.ownContext.traceStateHeaderValue { size += Size.field(3, traceState.utf8.count) }
        if span.parentSpanID != nil { size += Size.field(4, 8) }
        size += Size.varint(6, kind(span.kind)) + 2 * (1 + 8) + state.attributes.bytes.count
        guard let rare = state.rare else { return size }
        for event in rare.events { size += Size.field(11, eventSize(event)) }
        size += rare.links.count(where: { $0.context.traceContext != nil }) * Size.field(13, Size.field(1, 16) + Size.field(2, 8))
        if let status = rare.status { size += Size.field(15, statusSize(status)) }
        return size
    }

    static func write(_ span: MicroSpan, _ state: inout MicroSpan.State, into writer: inout ProtobufWriter) {
        writer.id(1, span.ownContext.traceID.bytes)
        writer.id(2, span.ownContext.spanID.bytes)
        if let traceState = span.ownContext.traceStateHeaderValue { writer.string(3, traceState) }
        if let parent = span.parentSpanID { writer.id(4, parent.bytes) }
        switch state.name {
        case .text(let name): writer.string(5, name)
        case .methodAndRoute(let method, let route): writer.string(5, method, " ", route)
        }
        writer.varint(6, kind(span.kind))
        writer.fixed64(7, span.start)
        writer.fixed64(8, state.end ?? span.start)
        writer.append(state.attributes.bytes)
        guard let rare = state.rare else { return }
        for event in rare.events {
            // Event { time_unix_nano 1, name 2, attributes 3 }
            writer.header(11, length: eventSize(event))
            writer.fixed64(1, event.nanosecondsSinceEpoch)
            writer.string(2, event.name)
            event.attributes.forEach { key, value in writer.keyValue(3, key, .other(value)) }
        }
        for link in rare.links.compactMap({ $0.context.traceContext }) {
            // Link { trace_id 1, span_id 2 }
            writer.header(13, length: Size.field(1, 16) + Size.field(2, 8))
            writer.id(1, link.traceID.bytes)
            writer.id(2, link.spanID.bytes)
        }
        if let status = rare.status {
            // Status { message 2, code 3 }
            writer.header(15, length: statusSize(status))
            if let message = status.message { writer.string(2, message) }
            writer.varint(3, status.code == .ok ? 1 : 2)
        }
    }

    private static func nameLength(_ name: MicroSpan.Name) -> Int {
        switch name {
        case .text(let name): name.utf8.count
        case .methodAndRoute(let method, let route): method.utf8.count + 1 + route.utf8.count
        }
    }

    private static func eventSize(_ event: SpanEvent) -> Int {
        var size = 1 + 8 + Size.field(2, event.name.utf8.count)
        event.attributes.forEach { key, value in size += Size.field(3, Size.keyValue(key, .other(value))) }
        return size
    }

    private static func statusSize(_ status: SpanStatus) -> Int {
        (status.message.map { Size.field(2, $0.utf8.count) } ?? 0) + Size.varint(3, 1)
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
}

/// Encoded sizes, for the length in front of each message.
enum Size {
    static func varint(_ value: UInt64) -> Int {
        var size = 1, rest = value >> 7
        while rest > 0 {
            size += 1
            rest >>= 7
        }
        return size
    }

    static func tag(_ field: Int) -> Int { varint(UInt64(field) << 3) }

    /// A length-delimited field whose content is `length` bytes.
    static func field(_ field: Int, _ length: Int) -> Int { tag(field) + varint(UInt64(length)) + length }

    static func varint(_ field: Int, _ value: UInt64) -> Int { tag(field) + varint(value) }

    /// KeyValue { key 1, AnyValue value 2 }.
    static func keyValue(_ key: String, _ value: SpanAttributeBytes.Value) -> Int {
        field(1, key.utf8.count) + field(2, anyValue(value))
    }

    /// AnyValue { string_value 1, bool_value 2, int_value 3, double_value 4, array_value 5 }.
    static func anyValue(_ value: SpanAttributeBytes.Value) -> Int {
        switch value {
        case .string(let text): field(1, text.utf8.count)
        case .int(let number): varint(3, UInt64(bitPattern: number))
        case .bool: varint(2, 1)
        case .double: 1 + 8
        case .other(let attribute):
            switch ProtobufWriter.simplified(attribute) {
            case .scalar(let value): anyValue(value)
            case .array(let values): field(5, values.reduce(0) { $0 + field(1, anyValue($1)) })
            }
        }
    }
}

/// Protobuf's wire format, the parts OTLP spans use: varints (wire type 0), fixed 64-bit (1)
/// and length-delimited bytes, strings and messages (2).
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    init(capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    mutating func varint(_ field: Int, _ value: UInt64) {
        tag(field, wireType: 0)
        appendVarint(value)
    }

    mutating func fixed64(_ field: Int, _ value: UInt64) {
        tag(field, wireType: 1)
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A length-delimited field's tag and length; its `length` bytes of content follow.
    mutating func header(_ field: Int, length: Int) {
        tag(field, wireType: 2)
        appendVarint(UInt64(length))
    }

    /// A trace or span id: its bytes as they are.
    mutating func id<Bytes>(_ field: Int, _ value: Bytes) {
        withUnsafeBytes(of: value) { raw in
            header(field, length: raw.count)
            bytes.append(contentsOf: raw)
        }
    }

    mutating func string(_ field: Int, _ value: String) {
        header(field, length: value.utf8.count)
        append(utf8Of: value)
    }

    /// One string field made of three parts, written without joining them first.
    mutating func string(_ field: Int, _ first: String, _ second: String, _ third: String) {
        header(field, length: first.utf8.count + second.utf8.count + third.utf8.count)
        append(utf8Of: first)
        append(utf8Of: second)
        append(utf8Of: third)
    }

    /// A native string's bytes in one copy (appending `utf8` goes byte by byte).
    private mutating func append(utf8Of text: String) {
        var text = text
        text.withUTF8 { bytes.append(contentsOf: $0) }
    }

    /// Bytes already in the wire format (encoded attributes).
    mutating func append(_ encoded: [UInt8]) {
        bytes.append(contentsOf: encoded)
    }

    mutating func reserve(_ capacity: Int) {
        bytes.reserveCapacity(capacity)
    }

    mutating func keyValue(_ field: Int, _ key: String, _ value: SpanAttributeBytes.Value) {
        header(field, length: Size.keyValue(key, value))
        string(1, key)
        header(2, length: Size.anyValue(value))
        anyValue(value)
    }

    private mutating func anyValue(_ value: SpanAttributeBytes.Value) {
        switch value {
        case .string(let text): string(1, text)
        case .int(let number): varint(3, UInt64(bitPattern: number))
        case .bool(let flag): varint(2, flag ? 1 : 0)
        case .double(let number): fixed64(4, number.bitPattern)
        case .other(let attribute):
            switch Self.simplified(attribute) {
            case .scalar(let value): anyValue(value)
            case .array(let values):
                // ArrayValue { repeated AnyValue values = 1 }
                header(5, length: values.reduce(0) { $0 + Size.field(1, Size.anyValue($1)) })
                for value in values {
                    header(1, length: Size.anyValue(value))
                    anyValue(value)
                }
            }
        }
    }

    /// A `SpanAttribute` as the shapes OTLP has (scalars, arrays of scalars); whatever else
    /// there is, as its description.
    enum Simplified {
        case scalar(SpanAttributeBytes.Value)
        case array([SpanAttributeBytes.Value])
    }

    static func simplified(_ attribute: SpanAttribute) -> Simplified {
        switch attribute {
        case .string(let text): .scalar(.string(text))
        case .int32(let number): .scalar(.int(Int64(number)))
        case .int64(let number): .scalar(.int(number))
        case .bool(let flag): .scalar(.bool(flag))
        case .double(let number): .scalar(.double(number))
        case .stringArray(let values): .array(values.map { .string($0) })
        case .int32Array(let values): .array(values.map { .int(Int64($0)) })
        case .int64Array(let values): .array(values.map { .int($0) })
        case .boolArray(let values): .array(values.map { .bool($0) })
        case .doubleArray(let values): .array(values.map { .double($0) })
        case .stringConvertibleArray(let values): .array(values.map { .string("\($0)") })
        case .stringConvertible(let value): .scalar(.string("\(value)"))
        default: .scalar(.string("\(attribute)"))
        }
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
