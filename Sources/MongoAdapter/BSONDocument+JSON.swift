import CMongoc

extension BSONDocument {
    /// Parses exactly one JSON object with libbson's parser, which keeps JSON's own number forms
    /// apart: `5` is an integer (int32, or int64 when large), `5.0` and `5e0` are doubles, and an
    /// integer outside Int64 is an error. That is why request bodies go through here rather than
    /// Foundation's JSONDecoder, which reads `5.0` as the integer 5.
    ///
    /// libbson also accepts MongoDB Extended JSON (`{"$numberLong": "5"}` is an int64) and the
    /// literals `NaN`/`Infinity` (as doubles). A top-level array and data after the object are
    /// refused here, since libbson alone would accept them.
    public init(json bytes: some Collection<UInt8>) throws(BSONError) {
        let whitespace: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0D]
        guard let first = bytes.first(where: { !whitespace.contains($0) }) else { throw BSONError("the body is empty") }
        guard first == UInt8(ascii: "{") else {
            throw BSONError(first == UInt8(ascii: "[") ? "the body is a JSON array, not an object" : "the body is not a JSON object")
        }
        self = try Array(bytes).withUnsafeBufferPointer { buffer throws(BSONError) in try Self.parseOneObject(buffer) }
    }

    private static func parseOneObject(_ buffer: UnsafeBufferPointer<UInt8>) throws(BSONError) -> BSONDocument {
        if let literal = JSONIntegerGuard.firstOverlongInteger(in: buffer) {
            throw BSONError("the number \(literal.prefix(40)) is outside the 64-bit integer range")
        }
        guard let reader = bson_json_data_reader_new(false, buffer.count) else { throw BSONError("could not start the JSON reader") }
        defer { bson_json_reader_destroy(reader) }
        bson_json_data_reader_ingest(reader, buffer.baseAddress, buffer.count)
        var error = bson_error_t()
        let document = OwnedBSON()
        switch bson_json_reader_read(reader, document.pointer, &error) {
        case 1: break
        case 0: throw BSONError("the body is empty")
        default: throw BSONError("the body is not valid JSON: \(error.text)")
        }
        let trailing = OwnedBSON()
        guard bson_json_reader_read(reader, trailing.pointer, &error) == 0 else {
            throw BSONError("the body is not valid JSON: unexpected data after the object")
        }
        return try document.decoded()
    }
}

/// libbson 1.23 wraps integer literals of 2^64 and more instead of refusing them (it parses
/// `99999999999999999999` as 7766279631452241919, `18446744073709551616` as 0), while it does
/// refuse those between Int64.max and 2^64. A JSON integer of 20 digits or more never fits in an
/// Int64, so such literals are found here, outside strings, before libbson sees the body.
enum JSONIntegerGuard {
    static func firstOverlongInteger(in bytes: UnsafeBufferPointer<UInt8>) -> String? {
        var index = 0
        var inString = false
        var escaped = false
        while index < bytes.count {
            let byte = bytes[index]
            if inString {
                if escaped { escaped = false } else if byte == backslash { escaped = true } else if byte == quote { inString = false }
                index += 1
            } else if byte == quote {
                inString = true
                index += 1
            } else if isDigit(byte) {
                let start = index
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
                let isInteger = index == bytes.count || !fractionOrExponent.contains(bytes[index])
                if isInteger, index - start >= 20 { return String(decoding: bytes[start..<index], as: UTF8.self) }
                // The rest of the token (fraction, exponent) makes it a double: libbson's business.
                while index < bytes.count, isDigit(bytes[index]) || numberPunctuation.contains(bytes[index]) { index += 1 }
            } else {
                index += 1
            }
        }
        return nil
    }

    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")
    private static let fractionOrExponent: Set<UInt8> = [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")]
    private static let numberPunctuation: Set<UInt8> = [
        UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"),
    ]

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
}
