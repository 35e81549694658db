/// The audit page: the newest calculations, or why there are none to show.
struct AuditPage: SitePage, Sendable {
    let entries: [AuditRow]
    let unavailable: Bool

    init(entries: [AuditRow] = [], unavailable: Bool = false) {
        self.entries = entries
        self.unavailable = unavailable
    }

    var title: String { "Audit" }
    var nav: SiteLayout.Nav? { .audit }

    func writeContent(to html: inout HTMLWriter) {
        html.raw("<h1>Audit</h1>\n")
        if unavailable {
            html.raw(
                """
                <p class="notice error" role="alert">The calculation history is unavailable right now. Please try again in a moment.</p>

                """)
        } else if entries.isEmpty {
            html.raw(
                """
                <div class="card empty">
                  <p><strong>No calculations yet.</strong></p>
                  <p>Calculations appear here once someone <a href="/add">adds two numbers</a>.</p>
                </div>

                """)
        } else {
            writeTable(to: &html)
        }
    }

    private func writeTable(to html: inout HTMLWriter) {
        html.raw(
            """
            <p class="lead">The newest calculations, latest first.</p>
            <div class="table-wrap">
            <table>
              <thead><tr><th scope="col">Time (UTC)</th><th scope="col">Calculation</th><th scope="col" class="num">Result</th></tr></thead>
              <tbody>

            """)
        for row in entries {
            html.raw(#"    <tr><td><time datetime=""#)
            html.escaped(row.time)
            html.raw(#"">"#)
            html.escaped(row.time)
            html.raw(#"</time></td><td class="calc">"#)
            html.escaped(row.calc)
            html.raw(#"</td><td class="num">"#)
            html.escaped(row.result)
            html.raw("</td></tr>\n")
        }
        html.raw(
            """
              </tbody>
            </table>
            </div>

            """)
    }
}
