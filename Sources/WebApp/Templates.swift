// The page templates, kept as Swift string constants rather than bundle resources so the
// executable is one self-contained file (no resource bundle to copy into the image).
// Every `{{name}}` is HTML-escaped by swift-mustache; the templates never use `{{{ }}}`.

enum Templates {
    /// The shared layout: pages fill the `title` and `content` blocks (mustache inheritance).
    static let layout = """
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{$title}}micro{{/title}} · micro</title>
        <link rel="stylesheet" href="/stylesheets/style.css">
        </head>
        <body>
        <header class="site-header">
          <div class="wrap">
            <a class="brand" href="/">micro</a>
            <nav aria-label="Main">
              <a href="/add"{{#navAdd}} aria-current="page"{{/navAdd}}>Add</a>
              <a href="/audit"{{#navAudit}} aria-current="page"{{/navAudit}}>Audit</a>
            </nav>
          </div>
        </header>
        <main class="wrap">
        {{$content}}{{/content}}
        </main>
        <footer class="site-footer"><div class="wrap">micro · a calculator made of small services</div></footer>
        </body>
        </html>

        """

    static let index = """
        {{<layout}}
        {{$title}}Home{{/title}}
        {{$content}}
        <h1>Welcome to micro</h1>
        <p class="lead">A small calculator built from cooperating services.</p>
        <ul class="cards">
          <li><a class="card link-card" href="/add"><strong>Add</strong><span>Add two whole numbers.</span></a></li>
          <li><a class="card link-card" href="/audit"><strong>Audit</strong><span>See the latest calculations.</span></a></li>
        </ul>
        {{/content}}
        {{/layout}}

        """

    static let add = """
        {{<layout}}
        {{$title}}Add{{/title}}
        {{$content}}
        <h1>Add two numbers</h1>
        {{#result}}
        <p class="notice result" role="status"><output name="sum" for="first second">{{first}} + {{second}} = <strong>{{sum}}</strong></output></p>
        {{/result}}
        {{#error}}
        <p class="notice error" role="alert">{{.}}</p>
        {{/error}}
        <form class="card add-form" method="post" action="/add/calculate">
          <div class="field">
            <label for="first">First number</label>
            <input id="first" name="first" type="text" inputmode="numeric" autocomplete="off" value="{{first}}">
          </div>
          <span class="plus" aria-hidden="true">+</span>
          <div class="field">
            <label for="second">Second number</label>
            <input id="second" name="second" type="text" inputmode="numeric" autocomplete="off" value="{{second}}">
          </div>
          <button type="submit">Add</button>
        </form>
        <p class="hint">Whole numbers between -9223372036854775808 and 9223372036854775807, for example 42 or -7.</p>
        {{/content}}
        {{/layout}}

        """

    static let audit = """
        {{<layout}}
        {{$title}}Audit{{/title}}
        {{$content}}
        <h1>Audit</h1>
        {{#unavailable}}
        <p class="notice error" role="alert">The calculation history is unavailable right now. Please try again in a moment.</p>
        {{/unavailable}}
        {{^unavailable}}
        {{#hasEntries}}
        <p class="lead">The newest calculations, latest first.</p>
        <div class="table-wrap">
        <table>
          <thead><tr><th scope="col">Time (UTC)</th><th scope="col">Calculation</th><th scope="col" class="num">Result</th></tr></thead>
          <tbody>
        {{#entries}}
            <tr><td><time datetime="{{time}}">{{time}}</time></td><td class="calc">{{calc}}</td><td class="num">{{result}}</td></tr>
        {{/entries}}
          </tbody>
        </table>
        </div>
        {{/hasEntries}}
        {{^hasEntries}}
        <div class="card empty">
          <p><strong>No calculations yet.</strong></p>
          <p>Calculations appear here once someone <a href="/add">adds two numbers</a>.</p>
        </div>
        {{/hasEntries}}
        {{/unavailable}}
        {{/content}}
        {{/layout}}

        """

    /// The 404 and 500 pages: never internals, only what the visitor can act on.
    static let error = """
        {{<layout}}
        {{$title}}{{heading}}{{/title}}
        {{$content}}
        <h1>{{heading}}</h1>
        <div class="card">
          <p>{{message}}</p>
          {{#requestID}}<p class="hint">If you report this, quote request id <code>{{.}}</code>.</p>{{/requestID}}
          <p><a href="/">Back to the start page</a></p>
        </div>
        {{/content}}
        {{/layout}}

        """
}
