import TestSupport
import Yams

/// Yams hands back untyped values (`[AnyHashable: Any]`, `[Any]`, `Int`, `String`); these read
/// them as the shapes the shipping files use, so a wrong shape fails with the path it was at.
enum YAMLValue {
    static func mapping(_ value: Any?, at path: String) throws -> [String: Any] {
        guard let dictionary = value as? [AnyHashable: Any] else {
            throw TestSupportError("\(path): expected a mapping, found \(String(describing: value))")
        }
        var result: [String: Any] = [:]
        for (key, element) in dictionary {
            guard let key = key as? String else { throw TestSupportError("\(path): non-string key \(key)") }
            result[key] = element
        }
        return result
    }

    /// A missing key reads as an empty list.
    static func sequence(_ value: Any?, at path: String) throws -> [Any] {
        guard let value else { return [] }
        guard let list = value as? [Any] else { throw TestSupportError("\(path): expected a list, found \(value)") }
        return list
    }

    static func string(_ value: Any?, at path: String) throws -> String {
        switch value {
        case let text as String: return text
        case let number as Int: return String(number)
        default: throw TestSupportError("\(path): expected a string, found \(String(describing: value))")
        }
    }

    /// Numbers written as numbers or as quoted strings ("8080"), as compose files often do.
    static func integer(_ value: Any?, at path: String) throws -> Int {
        if let number = value as? Int { return number }
        if let text = value as? String, let number = Int(text) { return number }
        throw TestSupportError("\(path): expected an integer, found \(String(describing: value))")
    }

    /// Every document of a multi-document stream (`kubectl kustomize` output), as mappings.
    static func documents(_ yaml: String, source: String) throws -> [[String: Any]] {
        var documents: [[String: Any]] = []
        for (index, document) in try Yams.load_all(yaml: yaml).enumerated() {
            documents.append(try mapping(document, at: "\(source) document \(index)"))
        }
        return documents
    }
}
