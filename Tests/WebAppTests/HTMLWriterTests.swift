import Foundation
import NIOCore
import Testing

@testable import WebApp

@Suite struct HTMLWriterTests {
    private func escaped(_ text: String) -> String {
        var html = HTMLWriter(capacity: 16)
        html.escaped(text)
        return String(buffer: html.buffer)
    }

    @Test func escapesTheFiveSpecialCharacters() {
        #expect(escaped(#"<a href="x" title='y'>&</a>"#) == "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;")
    }

    @Test(arguments: ["", "plain", "&", "&&", "<<>>", "é ✓ 😀", "x&y", "'\"", "&amp;"])
    func textWithoutSpecialCharactersIsUnchangedAndEscapingIsReversible(_ text: String) {
        let out = escaped(text)
        #expect(!out.contains("<") && !out.contains(">") && !out.contains("\"") && !out.contains("'"))
        let back = out.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
        #expect(back == text)
    }

    /// Byte-wise, so a quote followed by a combining mark (one Character) is still escaped.
    @Test func escapesInsideGraphemeClusters() {
        #expect(escaped("\"\u{301}") == "&quot;\u{301}")
        #expect(escaped("<\u{20DD}") == "&lt;\u{20DD}")
    }
}
