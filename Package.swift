// swift-tools-version:6.2
// micro: five services (adderservice, auditservice, eventservice, webapp, report) that find each
// other through DNS SRV records, plus the local environment launcher. See docs/design.md.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// Third-party products, named once so target lists stay readable.
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")
let lifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let unixSignals = Target.Dependency.product(name: "UnixSignals", package: "swift-service-lifecycle")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let nioHTTP1 = Target.Dependency.product(name: "NIOHTTP1", package: "swift-nio")
let httpClient = Target.Dependency.product(name: "AsyncHTTPClient", package: "async-http-client")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let yams = Target.Dependency.product(name: "Yams", package: "Yams")
let propertyBased = Target.Dependency.product(name: "PropertyBased", package: "swift-property-based")

/// A service: a library holding its logic and routes, and a thin executable of the service's name.
func service(
    _ library: String, executable: String, dependencies: [Target.Dependency], testDependencies: [Target.Dependency] = []
) -> [Target] {
    [
        .target(name: library, dependencies: dependencies, swiftSettings: swiftSettings),
        .executableTarget(name: executable, dependencies: [.target(name: library)], swiftSettings: swiftSettings),
        .testTarget(
            name: "\(library)Tests",
            dependencies: [.target(name: library), "TestSupport", nioCore, nioHTTP1] + testDependencies,
            swiftSettings: swiftSettings
        ),
    ]
}

let package = Package(
    name: "micro",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "adderservice", targets: ["adderservice"]),
        .executable(name: "auditservice", targets: ["auditservice"]),
        .executable(name: "eventservice", targets: ["eventservice"]),
        .executable(name: "webapp", targets: ["webapp"]),
        .executable(name: "report", targets: ["report"]),
        .executable(name: "discover", targets: ["discover"]),
        .executable(name: "localenv", targets: ["localenv"]),
        .executable(name: "rehearse", targets: ["rehearse"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        // C libraries from Debian, found with pkg-config.
        .systemLibrary(
            name: "CHiredis", pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .systemLibrary(
            name: "CMongoc", pkgConfig: "libmongoc-1.0",
            providers: [.apt(["libmongoc-dev"])]
        ),
        // glibc's libresolv, with a small shim for the parts Swift cannot reach (res_state unions).
        .target(name: "CResolv", linkerSettings: [.linkedLibrary("resolv")]),

        // Shared code.
        .target(name: "Discovery", dependencies: ["CResolv", logging, nioCore, nioPosix], swiftSettings: swiftSettings),
        .target(
            name: "ServiceRuntime",
            dependencies: ["Discovery", logging, metrics, prometheus, lifecycle, unixSignals, nioCore, nioPosix, nioHTTP1],
            swiftSettings: swiftSettings
        ),
        // The queue message and /append body formats, shared by their producers and consumers.
        .target(name: "Contracts", swiftSettings: swiftSettings),
        .target(name: "RedisAdapter", dependencies: ["CHiredis", logging, nioPosix], swiftSettings: swiftSettings),
        .target(name: "MongoAdapter", dependencies: ["CMongoc", logging, nioPosix], swiftSettings: swiftSettings),

        // Tools.
        .executableTarget(name: "discover", dependencies: ["Discovery", argumentParser], swiftSettings: swiftSettings),
        // posix_spawn children, their output and signals: shared by localenv and rehearse.
        .target(name: "ProcessSupervision", swiftSettings: swiftSettings),
        .target(
            name: "LocalEnvironment", dependencies: ["ProcessSupervision", "Discovery", yams, logging, httpClient, nioCore, nioPosix],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "localenv", dependencies: ["LocalEnvironment", argumentParser], swiftSettings: swiftSettings),
        // The cluster rehearsal: rendered manifests run as pods in network namespaces.
        .target(
            name: "ClusterRehearsal", dependencies: ["ProcessSupervision", yams, logging, httpClient, nioCore, nioPosix],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "rehearse", dependencies: ["ClusterRehearsal", argumentParser], swiftSettings: swiftSettings),

        // Test support: starting real servers (redis-server, dnsmasq, nx-27017) on loopback ports.
        .target(name: "TestSupport", dependencies: [logging, "ProcessSupervision", nioCore, nioHTTP1], path: "Tests/TestSupport", swiftSettings: swiftSettings),
        .executableTarget(
            name: "slowservice", dependencies: ["ServiceRuntime"], path: "Tests/Fixtures/slowservice",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "DiscoveryTests", dependencies: ["Discovery", "ProcessSupervision", "TestSupport", nioCore, nioPosix], swiftSettings: swiftSettings),
        .testTarget(
            name: "ServiceRuntimeTests",
            dependencies: ["ServiceRuntime", "TestSupport", httpClient, logging, nioCore, nioHTTP1],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "RedisAdapterTests", dependencies: ["RedisAdapter", "ProcessSupervision", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "MongoAdapterTests", dependencies: ["MongoAdapter", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "LocalEnvironmentTests", dependencies: ["LocalEnvironment", "ProcessSupervision", "TestSupport", yams, httpClient],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "RehearsalTests", dependencies: ["ClusterRehearsal", "TestSupport", httpClient], swiftSettings: swiftSettings),
        .testTarget(name: "DeploymentTests", dependencies: ["Discovery", "TestSupport", yams], swiftSettings: swiftSettings),
    ]
        + service(
            "AdderService", executable: "adderservice", dependencies: ["ServiceRuntime", nioCore, nioHTTP1],
            testDependencies: [propertyBased, httpClient]
        )
        + service("AuditService", executable: "auditservice", dependencies: ["ServiceRuntime", "MongoAdapter", "Discovery", "Contracts", nioCore, nioHTTP1])
        + service("EventService", executable: "eventservice", dependencies: ["ServiceRuntime", "RedisAdapter", "Discovery", "Contracts", lifecycle, metrics, logging])
        + service(
            "WebApp", executable: "webapp",
            dependencies: ["ServiceRuntime", "RedisAdapter", "Discovery", "Contracts", nioCore, nioPosix, nioHTTP1],
            testDependencies: ["AdderService", "EventService", "MongoAdapter", httpClient]
        )
        + service("Report", executable: "report", dependencies: ["RedisAdapter", "Discovery", "Contracts", argumentParser], testDependencies: ["EventService"])
)
