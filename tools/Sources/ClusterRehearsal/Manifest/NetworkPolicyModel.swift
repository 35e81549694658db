/// A NetworkPolicy (networking.k8s.io/v1) as the rehearsal enforces it. Every field of the API is
/// read; the parser refuses, naming it, any field outside this model, so nothing is silently allowed.
public struct NetworkPolicy: Sendable, Equatable {
    public enum Direction: String, Sendable, CaseIterable { case ingress = "Ingress", egress = "Egress" }

    public var name: String
    /// nil: the cluster's namespace (the overlays set it on every object).
    public var namespace: String?
    /// The pods it isolates and whose paths its rules open; empty selects every pod of the namespace.
    public var podSelector: LabelSelector
    /// Kubernetes' default when absent: Ingress, plus Egress when there are egress rules.
    public var policyTypes: Set<Direction>
    public var ingress: [PolicyRule]
    public var egress: [PolicyRule]

    public func rules(_ direction: Direction) -> [PolicyRule] { direction == .ingress ? ingress : egress }
}

/// One `ingress` or `egress` entry: the peers (`from` / `to`) and the ports, both nil for "all".
public struct PolicyRule: Sendable, Equatable {
    public var peers: [PolicyPeer]?
    public var ports: [PolicyPort]?
}

public enum PolicyPeer: Sendable, Equatable {
    /// Pods matching `pods` (every pod when nil) in the namespaces matching `namespaces` (the
    /// policy's own namespace when nil).
    case pods(namespaces: LabelSelector?, pods: LabelSelector?)
    case ipBlock(IPv4Block, except: [IPv4Block])
}

public enum Transport: String, Sendable, Hashable, Comparable {
    case tcp = "TCP", udp = "UDP"

    /// nft's name of the protocol.
    var nftName: String { rawValue.lowercased() }

    public static func < (left: Transport, right: Transport) -> Bool { left.rawValue < right.rawValue }
}

public struct PolicyPort: Sendable, Equatable {
    public var transport: Transport
    /// nil: every port of the protocol. A name is looked up among the destination pod's container ports.
    public var port: PortReference?
    /// With a numbered port: the range port…endPort.
    public var endPort: Int?
}

/// `matchLabels` and `matchExpressions`; all requirements must hold, and none selects everything.
public struct LabelSelector: Sendable, Equatable {
    public enum Requirement: Sendable, Equatable {
        case isIn(String, [String])
        case notIn(String, [String])
        case exists(String)
        case doesNotExist(String)
    }

    public var requirements: [Requirement]

    public static let everything = LabelSelector(requirements: [])

    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { requirement in
            switch requirement {
            case .isIn(let key, let values): labels[key].map(values.contains) ?? false
            case .notIn(let key, let values): !(labels[key].map(values.contains) ?? false)
            case .exists(let key): labels[key] != nil
            case .doesNotExist(let key): labels[key] == nil
            }
        }
    }
}

/// An IPv4 CIDR block, as ipBlock's `cidr` and `except` give it.
public struct IPv4Block: Sendable, Hashable, CustomStringConvertible {
    public let network: UInt32
    public let prefixLength: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let length = Int(parts[1]), (0...32).contains(length), let address = IPv4Block.address(String(parts[0]))
        else {
            return nil
        }
        prefixLength = length
        network = address & IPv4Block.mask(length)
    }

    public func contains(_ address: String) -> Bool {
        guard let value = IPv4Block.address(address) else { return false }
        return value & IPv4Block.mask(prefixLength) == network
    }

    /// The block lies inside this one.
    public func contains(_ block: IPv4Block) -> Bool {
        block.prefixLength >= prefixLength && block.network & IPv4Block.mask(prefixLength) == network
    }

    public var description: String {
        let octets = (0..<4).map { String((network >> (24 - 8 * UInt32($0))) & 0xff) }
        return octets.joined(separator: ".") + "/\(prefixLength)"
    }

    static func mask(_ length: Int) -> UInt32 { length == 0 ? 0 : UInt32.max << (32 - UInt32(length)) }

    static func address(_ text: String) -> UInt32? {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false).map { UInt32($0) }
        guard octets.count == 4, octets.allSatisfy({ ($0 ?? 256) < 256 }) else { return nil }
        return octets.reduce(0) { ($0 << 8) | ($1 ?? 0) }
    }
}
