/// The 404, 413, 405, 400 and 500 pages: never internals, only what the visitor can act on.
struct ErrorPage: SitePage, Sendable {
    let heading: String
    let message: String
    let requestID: String?

    var title: String { heading }
    var nav: SiteLayout.Nav? { nil }

    func writeContent(to html: inout HTMLWriter) {
        html.raw("<h1>")
        html.escaped(heading)
        html.raw(
            """
            </h1>
            <div class="card">
              <p>
            """)
        html.escaped(message)
        html.raw("</p>\n  ")
        if let requestID {
            html.raw(#"<p class="hint">If you report this, quote request id <code>"#)
            html.escaped(requestID)
            html.raw("</code>.</p>")
        }
        html.raw(
            """

              <p><a href="/">Back to the start page</a></p>
            </div>

            """)
    }
}
