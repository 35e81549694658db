/// What the add page shows: the operands as typed (kept in the form), a result or a message.
struct AddPage: SitePage, Sendable {
    struct Result: Sendable {
        let first: String
        let second: String
        let sum: String
    }
    var first = ""
    var second = ""
    var result: Result?
    var error: String?

    var title: String { "Add" }
    var nav: SiteLayout.Nav? { .add }

    func writeContent(to html: inout HTMLWriter) {
        html.raw("<h1>Add two numbers</h1>\n")
        if let result {
            html.raw(#"<p class="notice result" role="status"><output name="sum" for="first second">"#)
            html.escaped(result.first)
            html.raw(" + ")
            html.escaped(result.second)
            html.raw(" = <strong>")
            html.escaped(result.sum)
            html.raw("</strong></output></p>\n")
        }
        if let error {
            html.raw(#"<p class="notice error" role="alert">"#)
            html.escaped(error)
            html.raw("</p>\n")
        }
        html.raw(
            """
            <form class="card add-form" method="post" action="/add/calculate">
              <div class="field">
                <label for="first">First number</label>
                <input id="first" name="first" type="text" inputmode="numeric" autocomplete="off" value="
            """)
        html.escaped(first)
        html.raw(
            """
            ">
              </div>
              <span class="plus" aria-hidden="true">+</span>
              <div class="field">
                <label for="second">Second number</label>
                <input id="second" name="second" type="text" inputmode="numeric" autocomplete="off" value="
            """)
        html.escaped(second)
        html.raw(
            """
            ">
              </div>
              <button type="submit">Add</button>
            </form>
            <p class="hint">Whole numbers between -9223372036854775808 and 9223372036854775807, for example 42 or -7.</p>

            """)
    }
}
