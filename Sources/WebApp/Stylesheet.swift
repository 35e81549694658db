import NIOCore
import NIOHTTP1
import ServiceRuntime

/// The site's one stylesheet, served from `/stylesheets/style.css`. A string constant, like the
/// pages' markup: the executable is one self-contained file, with no resources to copy next to it.
enum Stylesheet {
    static let path: RoutePath = "/stylesheets/style.css"

    static let css = """
        :root {
          --ink: #1d2430; --muted: #5b6576; --line: #dde2ea; --paper: #ffffff; --page: #f4f6f9;
          --accent: #2456c7; --accent-dark: #1a3f94; --good: #e9f6ee; --good-ink: #17603a;
          --bad: #fdecec; --bad-ink: #9b1c1c;
        }
        * { box-sizing: border-box; }
        html { -webkit-text-size-adjust: 100%; }
        body {
          margin: 0; background: var(--page); color: var(--ink);
          font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
        }
        .wrap { max-width: 44rem; margin: 0 auto; padding: 0 1.25rem; }
        a { color: var(--accent); }
        a:hover { color: var(--accent-dark); }
        .site-header { background: var(--paper); border-bottom: 1px solid var(--line); }
        .site-header .wrap { display: flex; align-items: center; justify-content: space-between; height: 3.5rem; }
        .brand { font-weight: 700; font-size: 1.2rem; color: var(--ink); text-decoration: none; letter-spacing: .02em; }
        nav a { margin-left: 1.25rem; color: var(--muted); text-decoration: none; font-weight: 500; }
        nav a:hover, nav a[aria-current="page"] { color: var(--accent); }
        nav a[aria-current="page"] { border-bottom: 2px solid var(--accent); padding-bottom: .2rem; }
        main.wrap { padding-top: 2.25rem; padding-bottom: 3rem; min-height: 60vh; }
        h1 { font-size: 1.75rem; line-height: 1.2; margin: 0 0 1rem; }
        .lead { color: var(--muted); margin-top: -.25rem; }
        .hint { color: var(--muted); font-size: .875rem; }
        .card {
          background: var(--paper); border: 1px solid var(--line); border-radius: .75rem;
          padding: 1.25rem 1.5rem; box-shadow: 0 1px 2px rgba(16, 24, 40, .04);
        }
        .cards { list-style: none; padding: 0; margin: 1.5rem 0 0; display: grid; gap: 1rem;
          grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); }
        .link-card { display: block; text-decoration: none; color: var(--ink); transition: border-color .15s; }
        .link-card:hover { border-color: var(--accent); color: var(--ink); }
        .link-card strong { display: block; font-size: 1.15rem; color: var(--accent); margin-bottom: .25rem; }
        .link-card span { color: var(--muted); }
        .add-form { display: flex; flex-wrap: wrap; align-items: flex-end; gap: .75rem 1rem; }
        .field { flex: 1 1 10rem; display: flex; flex-direction: column; }
        label { font-size: .875rem; font-weight: 600; margin-bottom: .35rem; }
        input {
          font: inherit; padding: .55rem .7rem; border: 1px solid #c3cad6; border-radius: .5rem;
          background: #fff; color: var(--ink); width: 100%;
        }
        input:focus { outline: 3px solid rgba(36, 86, 199, .25); border-color: var(--accent); }
        .plus { font-size: 1.4rem; color: var(--muted); padding-bottom: .45rem; }
        button {
          font: inherit; font-weight: 600; padding: .6rem 1.4rem; border: 0; border-radius: .5rem;
          background: var(--accent); color: #fff; cursor: pointer;
        }
        button:hover { background: var(--accent-dark); }
        .notice { border-radius: .75rem; padding: .9rem 1.25rem; margin: 0 0 1.25rem; border: 1px solid transparent; }
        .result { background: var(--good); color: var(--good-ink); border-color: #bfe3cc; font-size: 1.2rem;
          overflow-wrap: anywhere; }
        .error { background: var(--bad); color: var(--bad-ink); border-color: #f3c4c4; }
        .table-wrap { overflow-x: auto; background: var(--paper); border: 1px solid var(--line); border-radius: .75rem; }
        table { width: 100%; border-collapse: collapse; }
        th, td { text-align: left; padding: .65rem 1rem; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-size: .8rem; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); background: #fafbfc; }
        tbody tr:last-child td { border-bottom: 0; }
        td.calc { overflow-wrap: anywhere; font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
        .num { text-align: right; font-variant-numeric: tabular-nums; }
        time { white-space: nowrap; color: var(--muted); }
        .empty p { margin: .25rem 0; }
        code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #eef1f5;
          padding: .1rem .35rem; border-radius: .3rem; }
        .site-footer { color: var(--muted); font-size: .8rem; padding: 1.25rem 0 2rem; border-top: 1px solid var(--line); }
        @media (max-width: 30rem) {
          h1 { font-size: 1.45rem; }
          .plus { display: none; }
          button { width: 100%; }
        }

        """

    /// A strong validator for conditional requests: the stylesheet only changes with a new build.
    static let etag = "\"css-\(String(css.hashValueStable, radix: 16))\""

    static func response(for request: Request) -> Response {
        let headers: HTTPHeaders = ["content-type": "text/css; charset=utf-8", "cache-control": "public, max-age=3600", "etag": etag]
        if request.headers.first(name: "if-none-match") == etag {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: ByteBuffer(string: css))
    }
}

extension String {
    /// FNV-1a over the UTF-8 bytes: unlike `hashValue` it is the same in every process, so every
    /// replica behind a load balancer hands out the same ETag.
    var hashValueStable: UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return hash
    }
}
