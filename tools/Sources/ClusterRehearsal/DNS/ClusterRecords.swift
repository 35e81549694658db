import Foundation

/// A pod that is in its Services' endpoints: running, ready, not terminating.
public struct Endpoint: Sendable, Hashable {
    public var pod: String
    public var address: String
    public var labels: [String: String]
    public var ports: [ContainerPort]
    /// StatefulSet pods: their name and the governing Service, which give them a DNS name of
    /// their own (`mongo-0.mongo.micro.svc.cluster.local`).
    public var hostname: String?
    public var subdomain: String?

    public init(
        pod: String, address: String, labels: [String: String], ports: [ContainerPort],
        hostname: String? = nil, subdomain: String? = nil
    ) {
        self.pod = pod
        self.address = address
        self.labels = labels
        self.ports = ports
        self.hostname = hostname
        self.subdomain = subdomain
    }

    public func matches(_ selector: [String: String]) -> Bool {
        !selector.isEmpty && selector.allSatisfy { labels[$0.key] == $0.value }
    }

    /// The pod port a Service port forwards to (targetPort by name or number).
    public func port(_ reference: PortReference) -> Int? {
        switch reference {
        case .number(let number): return number
        case .name(let name): return ports.first { $0.name == name }?.number
        }
    }

}

/// A Service as the cluster runs it: with its virtual address (none when headless) and node ports.
public struct ServiceState: Sendable {
    public var service: ServiceObject
    public var clusterIP: String?
    /// One per Service port: the node port, for NodePort Services.
    public var nodePorts: [Int?]
}

/// One resource record of the cluster zone.
public struct DNSRecord: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var name: String
    public var type: String
    public var data: String

    public static func < (lhs: DNSRecord, rhs: DNSRecord) -> Bool {
        (lhs.name, lhs.type, lhs.data) < (rhs.name, rhs.type, rhs.data)
    }

    public var description: String { "\(name) \(type) \(data)" }
}

/// The records the Kubernetes DNS specification (and CoreDNS's kubernetes plugin) gives a
/// namespace's Services, computed from the ready endpoints only.
public enum ClusterRecords {
    public static func make(
        services: [ServiceState], endpoints: [Endpoint], namespace: String = "micro", suffix: String = "svc.cluster.local"
    ) -> Set<DNSRecord> {
        var records: Set<DNSRecord> = []
        for state in services {
            let domain = "\(state.service.name).\(namespace).\(suffix)"
            if let clusterIP = state.clusterIP {
                records.insert(DNSRecord(name: domain, type: "A", data: clusterIP))
                for port in state.service.ports {
                    guard let name = port.name else { continue }
                    records.insert(DNSRecord(name: "_\(name)._tcp.\(domain)", type: "SRV", data: "0 100 \(port.port) \(domain)."))
                }
            } else {
                records.formUnion(
                    headless(state.service, domain: domain, endpoints: endpoints.filter { $0.matches(state.service.selector) }))
            }
        }
        return records
    }

    /// Headless: the Service name answers every ready pod; each named port an SRV record per pod,
    /// whose target is the pod's own name (StatefulSet) or its dashed address.
    private static func headless(_ service: ServiceObject, domain: String, endpoints: [Endpoint]) -> Set<DNSRecord> {
        var records: Set<DNSRecord> = []
        let weight = endpoints.isEmpty ? 0 : max(1, 100 / endpoints.count)
        for endpoint in endpoints {
            records.insert(DNSRecord(name: domain, type: "A", data: endpoint.address))
            let host: String
            if let hostname = endpoint.hostname, endpoint.subdomain == service.name {
                host = "\(hostname).\(domain)"
            } else {
                host = "\(endpoint.address.replacingOccurrences(of: ".", with: "-")).\(domain)"
            }
            records.insert(DNSRecord(name: host, type: "A", data: endpoint.address))
            for port in service.ports {
                guard let name = port.name, let number = endpoint.port(port.targetPort) else { continue }
                records.insert(DNSRecord(name: "_\(name)._tcp.\(domain)", type: "SRV", data: "0 \(weight) \(number) \(host)."))
            }
        }
        return records
    }
}
