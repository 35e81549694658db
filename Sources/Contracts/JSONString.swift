/// JSON string escaping (RFC 8259 §7) for messages built by hand on hot paths: `"` and `\`
/// escaped, control characters as `\uXXXX` (or their short forms), everything else — including
/// `/` and non-ASCII — as is, which is what JSONEncoder with `.withoutEscapingSlashes` writes.
public enum JSONString {
    public static func appendEscaped(_ text: String, to json: inout String) {
        var text = text
        let clean = text.withUTF8 { !$0.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) }
        if clean {
            json += text
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": json += "\\\""
            case "\\": json += "\\\\"
            case "\n": json += "\\n"
            case "\r": json += "\\r"
            case "\t": json += "\\t"
            case "\u{08}": json += "\\b"
            case "\u{0C}": json += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                json += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: json.unicodeScalars.append(scalar)
            }
        }
    }
}
