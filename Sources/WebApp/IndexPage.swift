/// The start page: links to the two things the site does.
struct IndexPage: SitePage {
    var title: String { "Home" }
    var nav: SiteLayout.Nav? { nil }

    func writeContent(to html: inout HTMLWriter) {
        html.raw(
            """
            <h1>Welcome to micro</h1>
            <p class="lead">A small calculator built from cooperating services.</p>
            <ul class="cards">
              <li><a class="card link-card" href="/add"><strong>Add</strong><span>Add two whole numbers.</span></a></li>
              <li><a class="card link-card" href="/audit"><strong>Audit</strong><span>See the latest calculations.</span></a></li>
            </ul>

            """)
    }
}
