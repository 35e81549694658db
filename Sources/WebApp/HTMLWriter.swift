import NIOCore

/// Writes a page into a `ByteBuffer`: markup of our own with `raw`, every value with `escaped`.
///
/// Hand-written rather than a template engine: swift-mustache imports Foundation (NSLock, NSNull),
/// which links full Foundation and ICU's data into the webapp, and its render is a large share of
/// a calculation (bench/RESULTS.md, "Figures behind the code"). The pages are a handful of fixed layouts, so typed Swift that appends
/// bytes is short and fast.
struct HTMLWriter {
    private(set) var buffer: ByteBuffer

    init(capacity: Int = 4096) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    /// Markup as written in the source, never a value from outside.
    mutating func raw(_ markup: StaticString) {
        buffer.writeStaticString(markup)
    }

    /// A value, with `&`, `<`, `>`, `"` and `'` escaped, so it is text both between tags and
    /// inside a quoted attribute.
    mutating func escaped(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var start = 0
            for index in bytes.indices {
                guard let entity = Self.entity(bytes[index]) else { continue }
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<index]))
                buffer.writeStaticString(entity)
                start = index + 1
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start...]))
        }
    }

    private static func entity(_ byte: UInt8) -> StaticString? {
        switch byte {
        case UInt8(ascii: "&"): "&amp;"
        case UInt8(ascii: "<"): "&lt;"
        case UInt8(ascii: ">"): "&gt;"
        case UInt8(ascii: "\""): "&quot;"
        case UInt8(ascii: "'"): "&#39;"
        default: nil
        }
    }
}
