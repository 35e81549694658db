import TestSupport
import Yams

/// A port as one file declares it: its name where the file names ports, and its number.
struct DeclaredPort: Equatable, Sendable, CustomStringConvertible {
    var name: String?
    var number: Int

    var description: String { name.map { "\($0)=\(number)" } ?? "\(number)" }
}

/// fuge/fuge.yml (the seeds' format): `<service>: {type, path|image, ports: ["main=8080"]}` plus
/// the `fuge_global` settings.
struct FugeFile {
    var services: [String: [DeclaredPort]] = [:]
    var global: [String: Any] = [:]

    init(yaml: String) throws {
        let root = try YAMLValue.mapping(Yams.load(yaml: yaml), at: "fuge.yml")
        for (name, entry) in root {
            if name == "fuge_global" {
                global = try YAMLValue.mapping(entry, at: name)
                continue
            }
            let fields = try YAMLValue.mapping(entry, at: name)
            services[name] = try YAMLValue.sequence(fields["ports"], at: "\(name).ports").map {
                try Self.port(YAMLValue.string($0, at: "\(name).ports"), service: name)
            }
        }
    }

    /// `main=8080`
    private static func port(_ text: String, service: String) throws -> DeclaredPort {
        let parts = text.split(separator: "=", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, let number = Int(parts[1]) else {
            throw TestSupportError("fuge.yml \(service): port '\(text)' is not name=number")
        }
        return DeclaredPort(name: String(parts[0]), number: number)
    }
}

/// The ports a Dockerfile's `EXPOSE` instructions declare (`EXPOSE 8080`, `EXPOSE 8080/tcp`), and
/// the instructions of one stage (`FROM … AS name` up to the next `FROM`).
enum Dockerfile {
    static func stage(named name: String, in text: String) -> String? {
        var lines: [Substring] = []
        var inside = false
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: \.isWhitespace)
            if words.first?.uppercased() == "FROM" {
                if inside { break }
                inside = words.count == 4 && words[2].uppercased() == "AS" && words[3] == name
            }
            if inside { lines.append(line) }
        }
        return inside ? lines.joined(separator: "\n") : nil
    }

    static func exposedPorts(_ text: String) throws -> [Int] {
        var ports: [Int] = []
        for line in text.split(separator: "\n") {
            let words = line.split(whereSeparator: \.isWhitespace)
            guard words.first?.uppercased() == "EXPOSE" else { continue }
            for word in words.dropFirst() {
                guard let number = Int(word.split(separator: "/")[0]) else {
                    throw TestSupportError("EXPOSE \(word) is not a port number")
                }
                ports.append(number)
            }
        }
        return ports
    }
}

/// docker/docker-compose.yml: per service its image, the container ports it exposes (`expose`
/// and the container side of `ports`), those of them published on the host (`ports`), its fixed
/// address on the network, and its environment.
struct ComposeFile {
    struct Service {
        var image: String?
        var containerPorts: [Int] = []
        var publishedPorts: [Int] = []
        var address: String?
        var environment: [String: String] = [:]
    }

    var services: [String: Service] = [:]

    init(yaml: String) throws {
        let root = try YAMLValue.mapping(Yams.load(yaml: yaml), at: "compose")
        for (name, entry) in try YAMLValue.mapping(root["services"], at: "services") {
            services[name] = try Self.service(YAMLValue.mapping(entry, at: name), name: name)
        }
    }

    private static func service(_ fields: [String: Any], name: String) throws -> Service {
        var service = Service()
        service.image = fields["image"] as? String
        for value in try YAMLValue.sequence(fields["expose"], at: "\(name).expose") {
            service.containerPorts.append(try YAMLValue.integer(value, at: "\(name).expose"))
        }
        for value in try YAMLValue.sequence(fields["ports"], at: "\(name).ports") {
            // "3000:3000" or "127.0.0.1:3000:3000": the container port is the last part.
            let text = try YAMLValue.string(value, at: "\(name).ports")
            let port = try YAMLValue.integer(text.split(separator: ":").last.map(String.init), at: "\(name).ports")
            service.containerPorts.append(port)
            service.publishedPorts.append(port)
        }
        if let networks = fields["networks"] as? [AnyHashable: Any] {
            for (_, network) in networks {
                service.address = (network as? [AnyHashable: Any])?["ipv4_address"] as? String ?? service.address
            }
        }
        if fields["environment"] != nil {
            for (key, value) in try YAMLValue.mapping(fields["environment"], at: "\(name).environment") {
                service.environment[key] = try YAMLValue.string(value, at: "\(name).environment.\(key)")
            }
        }
        return service
    }
}

/// The records of a zone file with relative owner names (as docker/dns/micro.db writes them):
/// `_main._tcp.adderservice IN SRV 0 100 8080 adderservice` and `adderservice IN A 172.28.0.10`.
struct ZoneFile {
    struct SRV: Equatable {
        var port: Int
        var target: String
    }

    var origin: String?
    var srv: [String: [SRV]] = [:]
    var addresses: [String: [String]] = [:]

    init(text: String) throws {
        for rawLine in text.split(separator: "\n") {
            let line = rawLine.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let words = line.split(whereSeparator: \.isWhitespace).map(String.init)
            if words.first == "$ORIGIN", words.count == 2 { origin = words[1] }
            guard let owner = words.first, !owner.hasPrefix("$"), !rawLine.hasPrefix(" ") else { continue }
            if let type = words.firstIndex(of: "SRV") {
                guard words.count == type + 5, let port = Int(words[type + 3]) else {
                    throw TestSupportError("zone: malformed SRV record '\(line)'")
                }
                srv[owner, default: []].append(SRV(port: port, target: words[type + 4]))
            } else if let type = words.firstIndex(of: "A"), words.count == type + 2 {
                addresses[owner, default: []].append(words[type + 1])
            }
        }
    }
}
