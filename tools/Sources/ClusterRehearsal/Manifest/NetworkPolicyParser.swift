/// NetworkPolicy objects read strictly: each mapping may hold only the fields the model has
/// (`Fields.only`), so a field the rehearsal does not enforce stops the apply, naming it.
extension NetworkPolicy {
    init(name: String, namespace: String?, spec: Fields) throws(ManifestError) {
        try spec.only(["podSelector", "policyTypes", "ingress", "egress"])
        guard spec.has("podSelector") else { throw ManifestError("\(spec.path).podSelector is missing ({} selects every pod)") }
        let ingress = try spec.mappings("ingress").map { rule throws(ManifestError) in try PolicyRule(rule, peers: "from") }
        let egress = try spec.mappings("egress").map { rule throws(ManifestError) in try PolicyRule(rule, peers: "to") }
        var types: Set<Direction> = egress.isEmpty ? [.ingress] : [.ingress, .egress]
        if spec.has("policyTypes") {
            types = []
            for text in try spec.strings("policyTypes") {
                guard let type = Direction(rawValue: text) else {
                    throw ManifestError("\(spec.path).policyTypes: \(text) is neither Ingress nor Egress")
                }
                types.insert(type)
            }
        }
        self.init(
            name: name, namespace: namespace, podSelector: try LabelSelector(spec.mapping("podSelector")), policyTypes: types,
            ingress: ingress, egress: egress
        )
    }
}

extension PolicyRule {
    /// An empty or absent peer list or port list means "all", as in Kubernetes.
    init(_ fields: Fields, peers key: String) throws(ManifestError) {
        try fields.only([key, "ports"])
        let peers = try fields.mappings(key).map { peer throws(ManifestError) in try PolicyPeer(peer) }
        let ports = try fields.mappings("ports").map { port throws(ManifestError) in try PolicyPort(port) }
        self.init(peers: peers.isEmpty ? nil : peers, ports: ports.isEmpty ? nil : ports)
    }
}

extension PolicyPeer {
    init(_ fields: Fields) throws(ManifestError) {
        try fields.only(["podSelector", "namespaceSelector", "ipBlock"])
        let selects = fields.has("podSelector") || fields.has("namespaceSelector")
        guard fields.has("ipBlock") else {
            guard selects else { throw ManifestError("\(fields.path): a peer needs podSelector, namespaceSelector or ipBlock") }
            self = .pods(
                namespaces: fields.has("namespaceSelector") ? try LabelSelector(fields.mapping("namespaceSelector")) : nil,
                pods: fields.has("podSelector") ? try LabelSelector(fields.mapping("podSelector")) : nil
            )
            return
        }
        guard !selects else { throw ManifestError("\(fields.path): ipBlock cannot be combined with a selector") }
        let block = try fields.mapping("ipBlock")
        try block.only(["cidr", "except"])
        let cidr = try Self.block(block.requiredString("cidr"), at: "\(block.path).cidr")
        var except: [IPv4Block] = []
        for text in try block.strings("except") {
            let excluded = try Self.block(text, at: "\(block.path).except")
            guard cidr.contains(excluded) else {
                throw ManifestError("\(block.path).except: \(text) is not inside \(cidr)")
            }
            except.append(excluded)
        }
        self = .ipBlock(cidr, except: except)
    }

    private static func block(_ text: String, at path: String) throws(ManifestError) -> IPv4Block {
        guard let block = IPv4Block(text) else {
            throw ManifestError("\(path): \(text) is not an IPv4 CIDR block (IPv6 is not rehearsed: the pods have IPv4 only)")
        }
        return block
    }
}

extension PolicyPort {
    init(_ fields: Fields) throws(ManifestError) {
        try fields.only(["protocol", "port", "endPort"])
        let port = try fields.portReference("port")
        if fields.has("port"), port == nil { throw ManifestError("\(fields.path).port: expected a number or a name") }
        let endPort = try fields.int("endPort")
        if let endPort {
            guard case .number(let first) = port, endPort >= first else {
                throw ManifestError("\(fields.path).endPort: needs a numbered port no greater than it")
            }
        }
        self.init(transport: try fields.transport(), port: port, endPort: endPort)
    }
}

extension LabelSelector {
    init(_ fields: Fields) throws(ManifestError) {
        try fields.only(["matchLabels", "matchExpressions"])
        var requirements = try fields.labels("matchLabels").sorted { $0.key < $1.key }.map { Requirement.isIn($0.key, [$0.value]) }
        for expression in try fields.mappings("matchExpressions") {
            try expression.only(["key", "operator", "values"])
            let key = try expression.requiredString("key"), values = try expression.strings("values")
            let operation = try expression.requiredString("operator")
            switch (operation, values.isEmpty) {
            case ("In", false): requirements.append(.isIn(key, values))
            case ("NotIn", false): requirements.append(.notIn(key, values))
            case ("Exists", true): requirements.append(.exists(key))
            case ("DoesNotExist", true): requirements.append(.doesNotExist(key))
            default: throw ManifestError("\(expression.path): operator \(operation) with \(values.count) values is not a valid requirement")
            }
        }
        self.init(requirements: requirements)
    }
}
