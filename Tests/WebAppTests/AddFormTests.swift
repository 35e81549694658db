import Foundation
import Testing

@testable import WebApp

@Suite struct AddFormTests {
    @Test func readsBothFields() {
        #expect(AddForm(urlEncoded: "first=2&second=3") == AddForm(first: "2", second: "3"))
        #expect(AddForm(urlEncoded: "second=-7&first=%2B42") == AddForm(first: "+42", second: "-7"))
    }

    @Test func decodesPlusAndPercentEscapes() {
        let form = AddForm(urlEncoded: "first=%3Cscript%3Ealert(1)%3C%2Fscript%3E&second=a+b%20c%e2%82%AC")
        #expect(form == AddForm(first: "<script>alert(1)</script>", second: "a b c€"))
    }

    @Test func missingEmptyAndOtherFields() {
        #expect(AddForm(urlEncoded: "") == AddForm(first: nil, second: nil))
        #expect(AddForm(urlEncoded: "first=&second") == AddForm(first: "", second: ""))
        #expect(AddForm(urlEncoded: "x=1&&first=5&=") == AddForm(first: "5", second: nil))
        #expect(AddForm(urlEncoded: "first=1&first=2&second=3") == AddForm(first: "1", second: "3"))
        #expect(AddForm(urlEncoded: "first=1=2") == AddForm(first: "1=2", second: nil))
    }

    @Test(arguments: ["first=%zz", "first=%4", "first=1&second=%", "first=%FF", "first=%C3%28", "fir%st=1"])
    func malformedBodiesAreNotForms(body: String) {
        #expect(AddForm(urlEncoded: body) == nil)
    }

    /// The text a browser encoded comes back, and Foundation's percent-decoding (after `+` → space)
    /// agrees, for random text in each field, encoded as the test harness does.
    @Test func agreesWithFoundationsDecoding() throws {
        let alphabet = Array("09az AZ+-%&=._~*/?#[]<>\"'é€😀\u{0}\n")
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<500 {
            let first = String((0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            let second = String((0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            let body = "first=\(formEncode(first))&second=\(formEncode(second))"
            let ours = try #require(AddForm(urlEncoded: body), "\(body)")
            let reference = { (field: String) in field.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
            #expect(ours == AddForm(first: reference(formEncode(first)), second: reference(formEncode(second))), "\(body)")
            #expect(ours == AddForm(first: first, second: second), "\(body)")
        }
    }
}
