/// A manifest that cannot be run: the message names the object and field.
public struct ManifestError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One YAML mapping with typed, path-naming reads; what Yams' untyped `load_all` gives is `Any`.
struct Fields {
    let values: [String: Any]
    let path: String

    init(_ value: Any?, at path: String) throws(ManifestError) {
        guard let values = value as? [String: Any] else { throw ManifestError("\(path): expected a mapping") }
        self.values = values
        self.path = path
    }

    /// An optional mapping: absent → empty.
    static func optional(_ value: Any?, at path: String) throws(ManifestError) -> Fields {
        try Fields(value ?? [String: Any](), at: path)
    }

    func has(_ key: String) -> Bool { values[key] != nil }

    func mapping(_ key: String) throws(ManifestError) -> Fields { try Fields.optional(values[key], at: "\(path).\(key)") }

    func list(_ key: String) throws(ManifestError) -> [Any] {
        guard let value = values[key] else { return [] }
        guard let list = value as? [Any] else { throw ManifestError("\(path).\(key): expected a list") }
        return list
    }

    func mappings(_ key: String) throws(ManifestError) -> [Fields] {
        var result: [Fields] = []
        for (index, value) in try list(key).enumerated() { result.append(try Fields(value, at: "\(path).\(key)[\(index)]")) }
        return result
    }

    func string(_ key: String) throws(ManifestError) -> String? {
        guard let value = values[key] else { return nil }
        if let text = value as? String { return text }
        if let number = value as? Int { return String(number) }
        throw ManifestError("\(path).\(key): expected a string")
    }

    func requiredString(_ key: String) throws(ManifestError) -> String {
        guard let text = try string(key) else { throw ManifestError("\(path).\(key) is missing") }
        return text
    }

    func int(_ key: String) throws(ManifestError) -> Int? {
        guard let value = values[key] else { return nil }
        guard let number = value as? Int else { throw ManifestError("\(path).\(key): expected an integer") }
        return number
    }

    func strings(_ key: String) throws(ManifestError) -> [String] {
        try list(key).map { value throws(ManifestError) in
            guard let text = value as? String else { throw ManifestError("\(path).\(key): expected strings") }
            return text
        }
    }

    func labels(_ key: String) throws(ManifestError) -> [String: String] {
        var result: [String: String] = [:]
        for (name, value) in try mapping(key).values {
            guard let text = value as? String else { throw ManifestError("\(path).\(key).\(name): expected a string") }
            result[name] = text
        }
        return result
    }

    /// A port given by number or by name (`port: main`, `targetPort: 8080`).
    func portReference(_ key: String) throws(ManifestError) -> PortReference? {
        if let number = values[key] as? Int { return .number(number) }
        if let name = values[key] as? String { return Int(name).map(PortReference.number) ?? .name(name) }
        return nil
    }

    /// Refuses a key outside `known`, naming it: what the rehearsal does not model it would not
    /// enforce either, and a network policy must never allow more here than in a cluster.
    func only(_ known: Set<String>) throws(ManifestError) {
        guard let key = values.keys.sorted().first(where: { !known.contains($0) }) else { return }
        throw ManifestError("\(path).\(key) is not rehearsed (the rehearsal reads \(known.sorted().joined(separator: ", ")) here)")
    }

    /// `protocol: TCP` (the default) or UDP; anything else (SCTP) is refused.
    func transport() throws(ManifestError) -> Transport {
        let name = try string("protocol") ?? "TCP"
        guard let transport = Transport(rawValue: name) else {
            throw ManifestError("\(path).protocol: \(name) is not rehearsed (TCP and UDP are)")
        }
        return transport
    }

    /// `maxSurge: 1` or `maxSurge: 25%`.
    func intOrPercent(_ key: String) throws(ManifestError) -> IntOrPercent? {
        if let number = values[key] as? Int { return .count(number) }
        guard let text = values[key] as? String else { return nil }
        guard text.hasSuffix("%"), let value = Int(text.dropLast()) else {
            throw ManifestError("\(path).\(key): expected a number or a percentage")
        }
        return .percent(value)
    }
}
