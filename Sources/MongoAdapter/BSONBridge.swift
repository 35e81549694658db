import CMongoc

/// A BSON value could not be converted (bad JSON, a key libbson cannot store, an unmapped type).
public struct BSONError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A `bson_t` allocated by libbson (`bson_new`), owned by this value and destroyed when it goes
/// away. Noncopyable so the pointer has exactly one owner; it never leaves the blocking driver
/// call that made it, so it needs no Sendable story.
struct OwnedBSON: ~Copyable {
    /// A `bson_t *` (opaque to Swift, see CMongoc/shim.h).
    let pointer: OpaquePointer

    init() {
        // bson_new() aborts rather than returning NULL on allocation failure.
        pointer = bson_new()
    }

    init(_ document: BSONDocument) throws(BSONError) {
        self.init()
        for (key, value) in document.elements {
            try BSONBridge.append(value, key: key, to: pointer)
        }
    }

    deinit { bson_destroy(pointer) }

    func decoded() throws(BSONError) -> BSONDocument { try BSONBridge.decode(pointer) }
}

/// Storage for one `bson_iter_t`, which Swift cannot allocate itself (see CMongoc/shim.h).
struct BSONIterator: ~Copyable {
    let pointer: OpaquePointer
    private let storage: UnsafeMutableRawPointer

    init() {
        storage = .allocate(byteCount: cmongoc_bson_iter_size(), alignment: cmongoc_bson_alignment())
        pointer = OpaquePointer(storage)
    }

    deinit { storage.deallocate() }
}

/// Conversions between Swift values and libbson. Hand-written because no Swift BSON library is
/// available here; it covers the types this project stores plus the common ones a reply holds.
enum BSONBridge {
    static func append(_ value: BSONValue, key: String, to bson: OpaquePointer) throws(BSONError) {
        // libbson takes keys as C strings: an embedded NUL would silently cut the key short.
        guard !key.utf8.contains(0) else { throw BSONError("the key \"\(key)\" contains a NUL character") }
        let appended: Bool
        switch value {
        case .double(let number): appended = bson_append_double(bson, key, -1, number)
        case .string(let text):
            // Explicit length, so text with embedded NULs is stored whole.
            appended = text.withCString { bson_append_utf8(bson, key, -1, $0, Int32(text.utf8.count)) }
        case .document(let document):
            let child = try OwnedBSON(document)
            appended = bson_append_document(bson, key, -1, child.pointer)
        case .array(let values):
            let child = try OwnedBSON(BSONDocument(values.enumerated().map { (key: String($0.offset), value: $0.element) }))
            appended = bson_append_array(bson, key, -1, child.pointer)
        case .objectID(let hex):
            guard hex.utf8.count == 24, bson_oid_is_valid(hex, 24) else { throw BSONError("\"\(hex)\" is not an ObjectId") }
            var oid = bson_oid_t()
            bson_oid_init_from_string(&oid, hex)
            appended = bson_append_oid(bson, key, -1, &oid)
        case .bool(let flag): appended = bson_append_bool(bson, key, -1, flag)
        case .dateTime(let milliseconds): appended = bson_append_date_time(bson, key, -1, milliseconds)
        case .null: appended = bson_append_null(bson, key, -1)
        case .int32(let number): appended = bson_append_int32(bson, key, -1, number)
        case .int64(let number): appended = bson_append_int64(bson, key, -1, number)
        case .unsupported(let type): throw BSONError("cannot store a value of BSON type 0x\(String(type, radix: 16))")
        }
        // libbson refuses only when the document would exceed its maximum size.
        guard appended else { throw BSONError("the document is too large to add \"\(key)\"") }
    }

    /// Reads a `const bson_t *`; the pointer is only used during the call.
    static func decode(_ bson: OpaquePointer) throws(BSONError) -> BSONDocument {
        let iterator = BSONIterator()
        guard bson_iter_init(iterator.pointer, bson) else { throw BSONError("the server sent a corrupt BSON document") }
        return decodeElements(iterator.pointer)
    }

    private static func decodeElements(_ iterator: OpaquePointer) -> BSONDocument {
        var document = BSONDocument()
        while bson_iter_next(iterator) {
            document.append(String(cString: bson_iter_key(iterator)), decodeValue(iterator))
        }
        return document
    }

    private static func decodeValue(_ iterator: OpaquePointer) -> BSONValue {
        let type = bson_iter_type(iterator)
        switch type {
        case BSON_TYPE_DOUBLE: return .double(bson_iter_double(iterator))
        case BSON_TYPE_UTF8:
            var length: UInt32 = 0
            guard let characters = bson_iter_utf8(iterator, &length) else { return .string("") }
            let bytes = UnsafeRawPointer(characters).assumingMemoryBound(to: UInt8.self)
            return .string(String(decoding: UnsafeBufferPointer(start: bytes, count: Int(length)), as: UTF8.self))
        case BSON_TYPE_DOCUMENT, BSON_TYPE_ARRAY:
            let child = BSONIterator()
            guard bson_iter_recurse(iterator, child.pointer) else { return .unsupported(UInt8(type.rawValue)) }
            let document = decodeElements(child.pointer)
            return type == BSON_TYPE_ARRAY ? .array(document.elements.map(\.value)) : .document(document)
        case BSON_TYPE_OID:
            let hex = withUnsafeTemporaryAllocation(of: CChar.self, capacity: 25) { buffer in
                bson_oid_to_string(bson_iter_oid(iterator), buffer.baseAddress)
                return String(cString: buffer.baseAddress!)  // bson_oid_to_string always writes 24 digits + NUL
            }
            return .objectID(hex)
        case BSON_TYPE_BOOL: return .bool(bson_iter_bool(iterator))
        case BSON_TYPE_DATE_TIME: return .dateTime(bson_iter_date_time(iterator))
        case BSON_TYPE_NULL: return .null
        case BSON_TYPE_INT32: return .int32(bson_iter_int32(iterator))
        case BSON_TYPE_INT64: return .int64(bson_iter_int64(iterator))
        default: return .unsupported(UInt8(truncatingIfNeeded: type.rawValue))
        }
    }
}

extension bson_error_t {
    /// The NUL-terminated `message` field as a Swift string.
    var text: String {
        withUnsafeBytes(of: message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
