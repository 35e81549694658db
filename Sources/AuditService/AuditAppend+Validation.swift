import Contracts
import MongoAdapter

/// A `POST /append` body, validated: `{"id": "…", "calc": "2+3", "calcResult": 5}`. The id makes
/// the append idempotent; a body without one (as the seeds' webapp sends) is stored too, without
/// that protection.
extension AuditAppend {
    /// Validates raw body bytes. Parsed by libbson, not JSONDecoder, so that `5.0` is seen as
    /// the floating-point number it is written as (see `BSONDocument(json:)`).
    /// - Throws: `InvalidAppendRequest` with a message naming the field and the problem.
    init(body: some Collection<UInt8>) throws(InvalidAppendRequest) {
        try self.init(document: InvalidAppendRequest.document(body, expected: Self.expectedShape))
    }

    /// Validates a parsed body (one record of a batch, too).
    init(document: BSONDocument) throws(InvalidAppendRequest) {
        self.init(id: try Self.id(in: document), calc: try Self.calc(in: document), result: try Self.result(in: document))
    }

    private static let expectedShape = #" (expected {"id": "<id>", "calc": "<text>", "calcResult": <integer>})"#

    private static func id(in document: BSONDocument) throws(InvalidAppendRequest) -> String? {
        guard let value = document[Field.id.rawValue] else { return nil }
        guard case .string(let id) = value else { throw InvalidAppendRequest("id must be a string, not \(value.typeDescription)") }
        guard isValidID(id) else {
            throw InvalidAppendRequest("id must be 1 to \(maximumIDLength) letters, digits, '-', '_' or ':'")
        }
        return id
    }

    private static func calc(in document: BSONDocument) throws(InvalidAppendRequest) -> String {
        guard let value = document[Field.calc.rawValue] else { throw InvalidAppendRequest("calc is missing" + expectedShape) }
        guard case .string(let calc) = value else { throw InvalidAppendRequest("calc must be a string, not \(value.typeDescription)") }
        guard !calc.isEmpty else { throw InvalidAppendRequest("calc must not be empty") }
        guard calc.unicodeScalars.count <= maximumCalcLength else {
            throw InvalidAppendRequest("calc is longer than \(maximumCalcLength) characters")
        }
        return calc
    }

    private static func result(in document: BSONDocument) throws(InvalidAppendRequest) -> Int64 {
        let name = Field.result.rawValue
        guard let value = document[name] else { throw InvalidAppendRequest("\(name) is missing" + expectedShape) }
        guard let result = value.int64Value else { throw InvalidAppendRequest("\(name) must be an integer, not \(value.typeDescription)") }
        return result
    }
}

/// Why an append body was refused; the message goes to the client as a 400.
struct InvalidAppendRequest: Error, Equatable, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }

    /// The body parsed (by libbson); one that is not a JSON object is refused with libbson's
    /// reason and the `expected` shape.
    static func document(_ body: some Collection<UInt8>, expected: String) throws(InvalidAppendRequest) -> BSONDocument {
        do {
            return try BSONDocument(json: body)
        } catch {
            throw InvalidAppendRequest(error.message + expected)
        }
    }
}
