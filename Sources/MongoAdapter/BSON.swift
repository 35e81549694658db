/// Swift values for the BSON the service reads and writes. Conversions to and from libbson's
/// `bson_t` live in BSONBridge.swift; nothing here holds a C pointer, so these are plain Sendable
/// values that can cross threads freely.
public enum BSONValue: Sendable, Equatable {
    case double(Double)
    case string(String)
    case document(BSONDocument)
    case array([BSONValue])
    case objectID(String)  // 24 hex digits
    case bool(Bool)
    case dateTime(Int64)  // ms since the epoch
    case null
    case int32(Int32)
    case int64(Int64)
    /// A type this module does not map (decimal128, binary, regex …), by its BSON type byte.
    case unsupported(UInt8)

    /// The value as a 64-bit integer when it is stored as one (int32 or int64). Servers are free
    /// to narrow an int64 that fits into an int32 (nx-27017 does), so readers should use this.
    public var int64Value: Int64? {
        switch self {
        case .int32(let value): Int64(value)
        case .int64(let value): value
        default: nil
        }
    }

    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }

    /// A short name for error messages ("a string", "a double", …).
    public var typeDescription: String {
        switch self {
        case .double: "a floating-point number"
        case .string: "a string"
        case .document: "an object"
        case .array: "an array"
        case .objectID: "an ObjectId"
        case .bool: "a boolean"
        case .dateTime: "a date"
        case .null: "null"
        case .int32, .int64: "an integer"
        case .unsupported(let type): "a BSON value of type 0x\(String(type, radix: 16))"
        }
    }
}

/// An ordered BSON document. Order matters to MongoDB (sort specifications, index keys), so this
/// is a list of pairs, not a dictionary.
public struct BSONDocument: Sendable, Equatable, ExpressibleByDictionaryLiteral {
    public private(set) var elements: [(key: String, value: BSONValue)]

    public init(_ elements: [(key: String, value: BSONValue)] = []) {
        self.elements = elements
    }

    public init(dictionaryLiteral elements: (String, BSONValue)...) {
        self.elements = elements.map { (key: $0.0, value: $0.1) }
    }

    /// The first value stored under `key` (BSON allows duplicates; the first one wins, as in mongod).
    public subscript(key: String) -> BSONValue? {
        elements.first { $0.key == key }?.value
    }

    public mutating func append(_ key: String, _ value: BSONValue) {
        elements.append((key: key, value: value))
    }

    public var keys: [String] { elements.map(\.key) }

    public static func == (lhs: BSONDocument, rhs: BSONDocument) -> Bool {
        lhs.elements.count == rhs.elements.count
            && zip(lhs.elements, rhs.elements).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
