/// Reads an OTLP `ExportTraceServiceRequest` (protobuf wire format) into `ReceivedSpan`s: the
/// fields a test checks, by the field numbers of opentelemetry/proto/trace/v1/trace.proto.
/// Written separately from the services' encoder, so that a wrong field number there fails here.
enum OTLPDecoding {
    struct Malformed: Error {}

    static func spans(fromRequest bytes: [UInt8]) throws -> [ReceivedSpan] {
        var spans: [ReceivedSpan] = []
        for case (1, .bytes(let resourceSpans)) in try fields(bytes[...]) {
            var serviceName = ""
            var batch: [ReceivedSpan] = []
            for field in try fields(resourceSpans) {
                switch field {
                case (1, .bytes(let resource)):
                    for case (1, .bytes(let pair)) in try fields(resource) {
                        let (key, value) = try keyValue(pair)
                        if key == "service.name" { serviceName = value }
                    }
                case (2, .bytes(let scopeSpans)):
                    for case (2, .bytes(let span)) in try fields(scopeSpans) { batch.append(try self.span(span)) }
                default: break
                }
            }
            spans += batch.map { span in
                var span = span
                span.serviceName = serviceName
                return span
            }
        }
        return spans
    }

    static func span(_ bytes: ArraySlice<UInt8>) throws -> ReceivedSpan {
        var span = ReceivedSpan()
        for field in try fields(bytes) {
            switch field {
            case (1, .bytes(let id)): span.traceID = hex(id)
            case (2, .bytes(let id)): span.spanID = hex(id)
            case (3, .bytes(let text)): span.traceState = String(decoding: text, as: UTF8.self)
            case (4, .bytes(let id)): span.parentSpanID = hex(id)
            case (5, .bytes(let text)): span.name = String(decoding: text, as: UTF8.self)
            case (6, .varint(let kind)): span.kind = Int(kind)
            case (7, .fixed64(let time)): span.start = time
            case (8, .fixed64(let time)): span.end = time
            case (9, .bytes(let pair)):
                let (key, value) = try keyValue(pair)
                span.attributes[key] = value
            case (15, .bytes(let status)):
                for case (3, .varint(let code)) in try fields(status) { span.statusCode = Int(code) }
            default: break
            }
        }
        return span
    }

    /// KeyValue { string key = 1; AnyValue value = 2 }, the value as text.
    static func keyValue(_ bytes: ArraySlice<UInt8>) throws -> (String, String) {
        var key = "", value = ""
        for field in try fields(bytes) {
            switch field {
            case (1, .bytes(let text)): key = String(decoding: text, as: UTF8.self)
            case (2, .bytes(let any)):
                for field in try fields(any) {
                    switch field {
                    case (1, .bytes(let text)): value = String(decoding: text, as: UTF8.self)
                    case (2, .varint(let flag)): value = flag == 0 ? "false" : "true"
                    case (3, .varint(let number)): value = String(Int64(bitPattern: number))
                    case (4, .fixed64(let bits)): value = String(Double(bitPattern: bits))
                    default: value = "(unsupported)"
                    }
                }
            default: break
            }
        }
        return (key, value)
    }

    enum Value {
        case varint(UInt64)
        case fixed64(UInt64)
        case bytes(ArraySlice<UInt8>)
        case fixed32(UInt32)
    }

    /// A message's fields in order; throws on a truncated or unknown wire type.
    static func fields(_ bytes: ArraySlice<UInt8>) throws -> [(Int, Value)] {
        var rest = bytes
        var fields: [(Int, Value)] = []
        while !rest.isEmpty {
            let tag = try varint(&rest)
            let number = Int(tag >> 3)
            switch tag & 7 {
            case 0: fields.append((number, .varint(try varint(&rest))))
            case 1: fields.append((number, .fixed64(try fixed(&rest, 8))))
            case 2:
                let length = Int(try varint(&rest))
                guard length <= rest.count else { throw Malformed() }
                fields.append((number, .bytes(rest.prefix(length))))
                rest = rest.dropFirst(length)
            case 5: fields.append((number, .fixed32(UInt32(try fixed(&rest, 4)))))
            default: throw Malformed()
            }
        }
        return fields
    }

    private static func varint(_ bytes: inout ArraySlice<UInt8>) throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = bytes.popFirst() {
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
            guard shift < 64 else { throw Malformed() }
        }
        throw Malformed()
    }

    private static func fixed(_ bytes: inout ArraySlice<UInt8>, _ count: Int) throws -> UInt64 {
        guard bytes.count >= count else { throw Malformed() }
        let value = bytes.prefix(count).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        bytes = bytes.dropFirst(count)
        return value
    }

    private static func hex(_ bytes: ArraySlice<UInt8>) -> String {
        bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }
}
