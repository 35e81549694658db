import ServiceRuntime

/// The add form's fields, read from an `application/x-www-form-urlencoded` body.
///
/// Read here rather than with a Codable form decoder, which costs a noticeable share of a whole
/// POST /add/calculate for two short fields (bench/RESULTS.md, "Figures behind the code"). This is one pass over the bytes; the tests
/// check it on random input.
struct AddForm: Equatable, Sendable {
    var first: String?
    var second: String?

    init(first: String?, second: String?) {
        self.first = first
        self.second = second
    }

    /// nil when the body is not a form: a malformed percent escape or bytes that are not UTF-8.
    /// The first of repeated fields counts; other fields are ignored.
    init?(urlEncoded body: String) {
        for pair in body.utf8.split(separator: UInt8(ascii: "&")) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]),
                let value = Self.decode(parts.count > 1 ? parts[1] : pair[pair.endIndex...])
            else { return nil }
            switch name {
            case "first" where first == nil: first = value
            case "second" where second == nil: second = value
            default: continue
            }
        }
    }

    /// `+` is a space, `%XX` a byte; the bytes must be UTF-8.
    private static func decode(_ component: Substring.UTF8View.SubSequence) -> String? {
        PercentDecoding.decode(Substring(component), plusIsSpace: true)
    }
}
