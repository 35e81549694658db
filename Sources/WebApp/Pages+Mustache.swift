import Mustache

// Each page model names its fields for mustache itself. Without this, swift-mustache finds a
// value through `Mirror`, and rendering the add page with a result took ~600k instructions —
// most of a POST /add/calculate (bench/RESULTS.md). A name not listed here renders as missing,
// which the page tests would show.

extension AddPage: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "first": first
        case "second": second
        case "result": result
        case "error": error
        case "navAdd": navAdd
        default: nil
        }
    }
}

extension AddPage.Result: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "first": first
        case "second": second
        case "sum": sum
        default: nil
        }
    }
}

extension AuditPage: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "entries": entries
        case "unavailable": unavailable
        case "hasEntries": hasEntries
        case "navAudit": navAudit
        default: nil
        }
    }
}

extension AuditRow: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "time": time
        case "calc": calc
        case "result": result
        default: nil
        }
    }
}

extension ErrorPage: MustacheParent {
    func child(named name: String) -> Any? {
        switch name {
        case "heading": heading
        case "message": message
        case "requestID": requestID
        default: nil
        }
    }
}
