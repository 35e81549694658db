import NIOHTTP1
import ServiceRuntime

/// Whether a form post comes from this site. A browser says where a request comes from: `Origin`
/// on every POST (`null` for an opaque origin: a sandboxed frame, a file), and `Sec-Fetch-Site`
/// in current browsers. A post another site's page made a visitor's browser send is refused
/// (403), so no one can calculate — and fill the history — in a visitor's name. A request with
/// neither header is not a browser's cross-site request (curl, scripts) and is let through.
enum CrossSiteCheck {
    static func isCrossSite(_ request: Request) -> Bool {
        let headers = request.headers
        if let site = headers.first(name: "sec-fetch-site"), site.lowercased() == "cross-site" { return true }
        guard let origin = headers.first(name: "origin") else { return false }
        guard let host = headers.first(name: "host") else { return true }
        return authority(ofOrigin: origin)?.lowercased() != host.lowercased()
    }

    /// `http://example.com:3000` → `example.com:3000`; nil for `null` or anything not an http(s) origin.
    static func authority(ofOrigin origin: String) -> Substring? {
        for scheme in ["http://", "https://"] where origin.lowercased().hasPrefix(scheme) {
            let authority = origin.dropFirst(scheme.count)
            return authority.isEmpty || authority.contains("/") ? nil : authority
        }
        return nil
    }
}
