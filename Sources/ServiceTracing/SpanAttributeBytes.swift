import Tracing

/// A span's attributes as the `attributes` fields (9) of an OTLP `Span`, written as they are set:
/// sending them is then one copy. The values a service's own spans carry (strings, integers)
/// are written without going through `SpanAttribute`'s existential case.
public struct SpanAttributeBytes: Sendable {
    public enum Value: Sendable {
        case string(String)
        case int(Int64)
        case bool(Bool)
        case double(Double)
        case other(SpanAttribute)
    }

    /// `Span.attributes` is field 9.
    static let field = 9

    private(set) var writer = ProtobufWriter(capacity: 0)

    public mutating func add(_ key: String, _ value: Value) {
        switch value {
        case .string(let text): add(key, text)
        case .int(let number): add(key, number)
        default:
            reserveOnce()
            writer.keyValue(Self.field, key, value)
        }
    }

    /// KeyValue { key 1, AnyValue { string_value 1 } 2 }, written straight.
    public mutating func add(_ key: String, _ value: String) {
        reserveOnce()
        let valueField = Size.field(1, value.utf8.count)
        writer.header(Self.field, length: Size.field(1, key.utf8.count) + Size.field(2, valueField))
        writer.string(1, key)
        writer.header(2, length: valueField)
        writer.string(1, value)
    }

    /// KeyValue { key 1, AnyValue { int_value 3 } 2 }, written straight.
    public mutating func add(_ key: String, _ value: Int64) {
        reserveOnce()
        let valueField = Size.varint(3, UInt64(bitPattern: value))
        writer.header(Self.field, length: Size.field(1, key.utf8.count) + Size.field(2, valueField))
        writer.string(1, key)
        writer.header(2, length: valueField)
        writer.varint(3, UInt64(bitPattern: value))
    }

    /// Attributes encoded once beforehand (`encoded(_:_:)`): what every span of a connection or
    /// a method shares is written once, then copied.
    public mutating func add(encoded: [UInt8]) {
        reserveOnce()
        writer.append(encoded)
    }

    /// One attribute's encoding, for `add(encoded:)`.
    public static func encoded(_ key: String, _ value: Value) -> [UInt8] {
        var attribute = SpanAttributeBytes()
        attribute.add(key, value)
        return attribute.bytes
    }

    /// Room for a span's few attributes at the first, rather than growing by doubling.
    private mutating func reserveOnce() {
        if writer.bytes.isEmpty { writer.reserve(256) }
    }

    var bytes: [UInt8] { writer.bytes }

    /// The attributes read back from their encoding, for `Span.attributes`.
    func decoded() -> SpanAttributes {
        var attributes = SpanAttributes()
        var reader = ProtobufReader(bytes[...])
        while let (field, pair) = reader.lengthDelimited(), field == Self.field {
            var keyValue = ProtobufReader(pair)
            var key = ""
            var value: SpanAttribute?
            while let (field, content) = keyValue.lengthDelimited() {
                if field == 1 { key = String(decoding: content, as: UTF8.self) }
                if field == 2 { value = Self.anyValue(content) }
            }
            if let value { attributes.set(key, value: value) }
        }
        return attributes
    }

    /// AnyValue { string 1, bool 2, int 3, double 4, array 5 }, as `ProtobufWriter` writes it.
    private static func anyValue(_ bytes: ArraySlice<UInt8>) -> SpanAttribute? {
        var reader = ProtobufReader(bytes)
        guard let (field, wireType) = reader.tag() else { return nil }
        switch (field, wireType) {
        case (1, 2): return reader.content().map { .string(String(decoding: $0, as: UTF8.self)) }
        case (2, 0): return reader.varint().map { .bool($0 != 0) }
        case (3, 0): return reader.varint().map { .int64(Int64(bitPattern: $0)) }
        case (4, 1): return reader.fixed64().map { .double(Double(bitPattern: $0)) }
        case (5, 2):
            guard let content = reader.content() else { return nil }
            var values = ProtobufReader(content)
            var elements: [SpanAttribute] = []
            while let (_, element) = values.lengthDelimited() { elements += anyValue(element).map { [$0] } ?? [] }
            return array(elements)
        default: return nil
        }
    }
}

extension SpanAttributeBytes {
    /// The array attribute of the elements' one type, else of their descriptions.
    fileprivate static func array(_ elements: [SpanAttribute]) -> SpanAttribute {
        let strings = elements.compactMap { if case .string(let value) = $0 { value } else { nil } }
        if strings.count == elements.count { return .stringArray(strings) }
        let integers = elements.compactMap { if case .int64(let value) = $0 { value } else { nil } }
        if integers.count == elements.count { return .int64Array(integers) }
        let flags = elements.compactMap { if case .bool(let value) = $0 { value } else { nil } }
        if flags.count == elements.count { return .boolArray(flags) }
        let numbers = elements.compactMap { if case .double(let value) = $0 { value } else { nil } }
        if numbers.count == elements.count { return .doubleArray(numbers) }
        return .stringArray(elements.map { "\($0)" })
    }
}

/// Reads back what `ProtobufWriter` wrote (`SpanAttributeBytes.decoded`).
struct ProtobufReader {
    private var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    mutating func varint() -> UInt64? {
        var value: UInt64 = 0, shift: UInt64 = 0
        while let byte = bytes.popFirst() {
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
            if shift > 63 { return nil }
        }
        return nil
    }

    mutating func tag() -> (field: Int, wireType: UInt64)? {
        varint().map { (Int($0 >> 3), $0 & 7) }
    }

    mutating func fixed64() -> UInt64? {
        guard bytes.count >= 8 else { return nil }
        defer { bytes.removeFirst(8) }
        return bytes.prefix(8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    mutating func content() -> ArraySlice<UInt8>? {
        guard let length = varint(), length <= bytes.count else { return nil }
        defer { bytes.removeFirst(Int(length)) }
        return bytes.prefix(Int(length))
    }

    /// The next length-delimited field; nil at the end or at anything else.
    mutating func lengthDelimited() -> (field: Int, content: ArraySlice<UInt8>)? {
        guard let (field, wireType) = tag(), wireType == 2, let content = content() else { return nil }
        return (field, content)
    }
}
