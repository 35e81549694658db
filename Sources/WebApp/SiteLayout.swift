/// A page of the site: its title, the navigation link it marks as current, and its content,
/// which `SiteLayout` wraps in the shared head, header and footer.
protocol SitePage {
    var title: String { get }
    var nav: SiteLayout.Nav? { get }
    func writeContent(to html: inout HTMLWriter)
}

/// The layout every page shares.
enum SiteLayout {
    /// The navigation link of the current page, marked with `aria-current`.
    enum Nav { case add, audit }

    static func write(_ page: some SitePage, to html: inout HTMLWriter) {
        html.raw(
            """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>
            """)
        html.escaped(page.title)
        html.raw(
            """
             · micro</title>
            <link rel="stylesheet" href="/stylesheets/style.css">
            </head>
            <body>
            <header class="site-header">
              <div class="wrap">
                <a class="brand" href="/">micro</a>
                <nav aria-label="Main">
                  <a href="/add"
            """)
        if page.nav == .add { html.raw(#" aria-current="page""#) }
        html.raw(
            """
            >Add</a>
                  <a href="/audit"
            """)
        if page.nav == .audit { html.raw(#" aria-current="page""#) }
        html.raw(
            """
            >Audit</a>
                </nav>
              </div>
            </header>
            <main class="wrap">

            """)
        page.writeContent(to: &html)
        html.raw(
            """

            </main>
            <footer class="site-footer"><div class="wrap">micro · a calculator made of small services</div></footer>
            </body>
            </html>

            """)
    }
}
