import Discovery
import Foundation
import TestSupport
import Testing

@testable import LocalEnvironment

/// fuge/fuge.yml is read as the seeds' format, and agrees with the service table.
@Suite struct FugeFileTests {
    let fuge: FugeFile

    init() throws {
        fuge = try FugeFile.load(path: TestPaths.packageRoot + "/fuge/fuge.yml")
    }

    @Test func globalBlockServesTheClusterNamesOn53053AndMonitorsTheSources() {
        #expect(
            fuge.global
                == FugeFile.Global(
                    dnsEnabled: true, dnsHost: "127.0.0.1", dnsPort: 53053, dnsNamespace: "micro", dnsSuffix: "svc.cluster.local",
                    monitor: true, monitorExcludes: ["**/.build/**", "**/.git/**", "**/.tools/**", "**/*.log"],
                    environment: ["OTEL_TRACES_EXPORTER": "none"]
                ))
    }

    @Test func everyServiceOfTheTableIsAnEntryWithItsPortNamesAndNumbers() throws {
        let services = MicroService.all.filter { !$0.ports.isEmpty }
        #expect(fuge.entries.map(\.name).sorted() == (services.map(\.name) + ["prometheus"]).sorted())
        for service in services {
            let entry = try #require(fuge.entries.first { $0.name == service.name })
            #expect(entry.ports == service.ports.map { FugeFile.NamedPort(name: $0.name, number: $0.number) }, "\(service)")
        }
    }

    @Test func servicesAreProcessesFromTheReleaseBuildAndDatabasesAndPrometheusAreContainers() {
        for entry in fuge.entries {
            switch entry.name {
            case "mongo", "redis":
                #expect(entry.kind == .container && entry.image == entry.name)
            case "prometheus":
                #expect(entry.kind == .container && entry.image == "prom/prometheus")
                #expect(entry.ports == [FugeFile.NamedPort(name: "http", number: 9090)])
            default:
                #expect(entry.kind == .process && entry.path == "../" && entry.run == ".build/release/\(entry.name)")
            }
        }
    }

    @Test(arguments: [
        ("a:\n  type: process\n  run: x\n  ports: [main=80a]", "port \"main=80a\" is not name=number"),
        ("a:\n  type: process\n  ports: [main=80]", "entry a is a process without `run`"),
        ("a:\n  type: vm\n  run: x", "needs `type: process` or `type: container`"),
        ("a:\n  type: container\n  ports: [main=1]", "entry a is a container without `image`"),
        ("a: [1, 2", "is not valid YAML"),
    ])
    func badEntriesAreRefusedNamingWhatIsWrong(entry: String, message: String) {
        let text = "fuge_global:\n  dns_enabled: true\n" + entry
        #expect {
            try FugeFile.parse(text)
        } throws: { error in
            "\(error)".contains(message)
        }
    }

    @Test func theGlobalEnvironmentIsNameEqualsValue() throws {
        let entry = "\na:\n  type: process\n  run: x\n  ports: [main=80]"
        let fuge = try FugeFile.parse("fuge_global:\n  environment: [A_1=x=y, B=]" + entry)
        #expect(fuge.global.environment == ["A_1": "x=y", "B": ""])
        for bad in ["OTEL_TRACES_EXPORTER", "1X=y", "=y", "A-B=1"] {
            #expect {
                try FugeFile.parse("fuge_global:\n  environment: [\"\(bad)\"]" + entry)
            } throws: { error in
                "\(error)".contains("environment entry \"\(bad)\" is not NAME=value")
            }
        }
    }
}
