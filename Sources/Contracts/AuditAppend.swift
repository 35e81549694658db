/// A calculation to record: the body of auditservice's `POST /append`, as the webapp sends it and
/// auditservice reads it: `{"id": "<unique>", "calc": "2+3", "calcResult": 5}`. Once stored it is
/// an `AuditList.Entry` (`{ts, calc, result}`). The two are the calculation's only types, and
/// both call the sum `result` in Swift; on the wire the append's is `calcResult`, as the seeds'
/// webapp sends it (docs/design.md, "HTTP contracts").
///
/// The id is chosen by the caller once per calculation; auditservice stores at most one record
/// per id, so a retry after a lost reply never doubles a record. The seeds' body has none, and
/// is stored without that protection.
public struct AuditAppend: Codable, Sendable, Equatable {
    public static let path = "/append"

    /// The JSON field names, also used by auditservice's own (libbson) parser.
    public enum CodingKeys: String, CodingKey, Sendable {
        case id, calc
        case result = "calcResult"
    }
    public typealias Field = CodingKeys

    /// Longest id accepted, in bytes.
    public static let maximumIDLength = 64
    /// Longest `calc` accepted, in Unicode scalars (a calculation, not a document store).
    public static let maximumCalcLength = 1000
    /// Largest body a sender may send (auditservice answers 413 beyond: the runtime's body
    /// limit); the webapp's outbox dead-letters larger records rather than loading them.
    public static let maximumBodySize = 64 * 1024

    /// nil in the seeds' body only: the webapp always sends one.
    public let id: String?
    public let calc: String
    public let result: Int64

    public init(id: String?, calc: String, result: Int64) {
        self.id = id
        self.calc = calc
        self.result = result
    }

    /// The body, written by hand as `EventQueueContract` writes its messages (what JSONEncoder
    /// with `.withoutEscapingSlashes` writes): it is on every calculation's path.
    public var json: String {
        var json = "{"
        if let id {
            json += #""id":""#
            JSONString.appendEscaped(id, to: &json)
            json += #"","#
        }
        json += #""calc":""#
        JSONString.appendEscaped(calc, to: &json)
        json += #"","calcResult":\#(result)}"#
        return json
    }

    /// Ids are 1 to 64 bytes of ASCII letters, digits, `-`, `_` and `:` (what `UniqueIDs` makes,
    /// UUIDs and ObjectId hex all fit).
    public static func isValidID(_ id: String) -> Bool {
        let bytes = id.utf8
        guard !bytes.isEmpty, bytes.count <= maximumIDLength else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: ":"):
                true
            default: false
            }
        }
    }
}
