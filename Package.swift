// swift-tools-version:6.2
// micro: five services (adderservice, auditservice, eventservice, webapp, report) that find each
// other through DNS SRV records. See docs/design.md.
//
// One package, three trees, and dependencies point one way, product ← tooling ← tests:
//   Sources/  the product: what the images ship (C shims, Platform and Queueing → Discovery → ServiceRuntime → adapters →
//             services, and Contracts); its targets depend on nothing else here.
//   tools/    the tooling around it (tools/Sources): the local launcher `localenv`, the cluster
//             rehearsal `rehearse`, `discover`, and ProcessSupervision, which they and the tests'
//             servers use; its suites in tools/Tests.
//   Tests/    the product's suites, and TestSupport (real redis-server, dnsmasq, nx-27017).
// Tests/DeploymentTests/PackageGraphTests checks the direction. The tooling is a tree of this
// package rather than a package of its own because a second package builds SwiftNIO,
// AsyncHTTPClient and the rest again in its own build folder on every CI run (bench/RESULTS.md,
// "Package layout").
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// Third-party products, named once so target lists stay readable.
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let metricsTestKit = Target.Dependency.product(name: "MetricsTestKit", package: "swift-metrics")
let prometheus = Target.Dependency.product(name: "Prometheus", package: "swift-prometheus")
let lifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let unixSignals = Target.Dependency.product(name: "UnixSignals", package: "swift-service-lifecycle")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let nioHTTP1 = Target.Dependency.product(name: "NIOHTTP1", package: "swift-nio")
let nioEmbedded = Target.Dependency.product(name: "NIOEmbedded", package: "swift-nio")
let nioExtras = Target.Dependency.product(name: "NIOExtras", package: "swift-nio-extras")
let httpClient = Target.Dependency.product(name: "AsyncHTTPClient", package: "async-http-client")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let yams = Target.Dependency.product(name: "Yams", package: "Yams")
let propertyBased = Target.Dependency.product(name: "PropertyBased", package: "swift-property-based")
let tracing = Target.Dependency.product(name: "Tracing", package: "swift-distributed-tracing")
let w3cTraceContext = Target.Dependency.product(name: "W3CTraceContext", package: "swift-w3c-trace-context")

/// A binary's thin `main.swift`, in `<tree>/Executables/<name>`: beside its library's folder it
/// would differ from it only by case (`Sources/Report`, `Sources/report`), which a case-insensitive
/// disk cannot hold.
func executable(_ name: String, in tree: String, dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: dependencies, path: "\(tree)/Executables/\(name)", swiftSettings: swiftSettings)
}

/// A service: a library holding its logic and routes, a thin executable of the service's name,
/// and the library's tests.
struct Service {
    var library: String
    var executable: String
    var dependencies: [Target.Dependency]
    var testDependencies: [Target.Dependency] = []
}

let services = [
    Service(
        library: "AdderService", executable: "adderservice", dependencies: ["ServiceRuntime", "Contracts", nioCore, nioHTTP1],
        testDependencies: [propertyBased, httpClient]),
    Service(
        library: "AuditService", executable: "auditservice",
        dependencies: ["ServiceRuntime", "MongoAdapter", "Discovery", "Contracts", "Platform", nioCore, nioHTTP1]),
    Service(
        library: "EventService", executable: "eventservice",
        dependencies: [
            "ServiceRuntime", "ServiceTracing", "RedisAdapter", "Discovery", "Contracts", "Platform", lifecycle, metrics, logging, tracing,
        ],
        testDependencies: ["ServiceTracing"]
    ),
    Service(
        library: "WebApp", executable: "webapp",
        dependencies: [
            "ServiceRuntime", "ServiceClient", "ServiceTracing", "RedisAdapter", "Discovery", "Contracts", "Platform", "Queueing", tracing,
            nioCore, nioPosix, nioHTTP1,
        ],
        testDependencies: [
            "AdderService", "EventService", "MongoAdapter", "ServiceClient", "ServiceTracing", "Queueing", tracing, httpClient,
        ]
    ),
    Service(
        library: "Report", executable: "report", dependencies: ["RedisAdapter", "Discovery", "Contracts", "Platform", argumentParser],
        testDependencies: ["EventService"]),
]

// MARK: - The product (Sources/)

let product: [Target] =
    [
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

        // The C library and FoundationEssentials, chosen per platform once (`import Platform`).
        .target(name: "Platform", swiftSettings: swiftSettings),

        // The one bounded async queue, its waiters and deadlines (design.md, "One way to do each thing").
        .target(name: "Queueing", dependencies: [nioCore], swiftSettings: swiftSettings),

        // Shared code.
        .target(name: "Discovery", dependencies: ["CResolv", "Platform", logging, nioCore, nioPosix], swiftSettings: swiftSettings),
        // Keep-alive HTTP/1.1 calls to other services (the webapp's) and to a trace collector.
        .target(
            name: "ServiceClient", dependencies: ["Discovery", "Platform", "Queueing", lifecycle, nioCore, nioPosix, nioHTTP1],
            swiftSettings: swiftSettings),
        // W3C Trace Context and OTLP/HTTP span export, on swift-distributed-tracing's API.
        .target(
            name: "ServiceTracing",
            dependencies: [
                "Discovery", "ServiceClient", "Platform", "Queueing", tracing, w3cTraceContext, logging, metrics, lifecycle, nioCore,
                nioHTTP1,
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "ServiceRuntime",
            dependencies: [
                "Discovery", "Contracts", "ServiceTracing", "Platform", "Queueing", logging, metrics, prometheus, lifecycle, unixSignals,
                tracing, w3cTraceContext,
                nioCore, nioPosix, nioHTTP1,
            ],
            swiftSettings: swiftSettings
        ),
        // The HTTP bodies, queue messages and limits that cross a process boundary, defined once.
        .target(name: "Contracts", swiftSettings: swiftSettings),
        .target(
            name: "RedisAdapter", dependencies: ["CHiredis", "Discovery", "Platform", logging, nioPosix], swiftSettings: swiftSettings),
        .target(name: "MongoAdapter", dependencies: ["CMongoc", "Discovery", logging, nioPosix], swiftSettings: swiftSettings),
    ]
    + services.flatMap { service in
        [
            .target(name: service.library, dependencies: service.dependencies, swiftSettings: swiftSettings),
            executable(service.executable, in: "Sources", dependencies: [.target(name: service.library)]),
        ]
    }

// MARK: - The tooling (tools/Sources/)

let tooling: [Target] = [
    // posix_spawn children, their output and signals: shared by localenv, rehearse and TestSupport.
    .target(name: "ProcessSupervision", path: "tools/Sources/ProcessSupervision", swiftSettings: swiftSettings),
    // The control socket of a running localenv or rehearsal, and its command-line client.
    .target(
        name: "ControlSocket", dependencies: [nioCore, nioPosix, nioExtras], path: "tools/Sources/ControlSocket",
        swiftSettings: swiftSettings),
    executable("discover", in: "tools/Sources", dependencies: ["Discovery", argumentParser]),
    // The local environment launcher that scripts/up runs.
    .target(
        name: "LocalEnvironment",
        dependencies: ["ProcessSupervision", "ControlSocket", "Discovery", yams, logging, httpClient, nioCore, nioPosix],
        path: "tools/Sources/LocalEnvironment", swiftSettings: swiftSettings
    ),
    executable("localenv", in: "tools/Sources", dependencies: ["LocalEnvironment", "ControlSocket", argumentParser]),
    // The cluster rehearsal: rendered manifests run as pods in network namespaces.
    .target(
        name: "ClusterRehearsal", dependencies: ["ProcessSupervision", "ControlSocket", yams, logging, httpClient, nioCore, nioPosix],
        path: "tools/Sources/ClusterRehearsal", swiftSettings: swiftSettings
    ),
    executable("rehearse", in: "tools/Sources", dependencies: ["ClusterRehearsal", "ControlSocket", argumentParser]),
]

// MARK: - The tests (Tests/ for the product, tools/Tests/ for the tooling)

let tests: [Target] =
    [
        // Starting real servers (redis-server, dnsmasq, nx-27017) on loopback ports, as ProcessSupervision's children.
        .target(
            name: "TestSupport",
            dependencies: ["Discovery", "ServiceTracing", logging, lifecycle, "ProcessSupervision", nioCore, nioPosix, nioHTTP1],
            path: "Tests/TestSupport", swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "slowservice", dependencies: ["ServiceRuntime"], path: "Tests/Fixtures/slowservice",
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "QueueingTests", dependencies: ["Queueing"], swiftSettings: swiftSettings),
        .testTarget(
            name: "DiscoveryTests", dependencies: ["Discovery", "ProcessSupervision", "TestSupport", nioCore, nioPosix],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "ServiceRuntimeTests",
            dependencies: [
                "ServiceRuntime", "ServiceTracing", "TestSupport", httpClient, logging, tracing, nioCore, nioHTTP1, nioEmbedded,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ServiceClientTests", dependencies: ["ServiceClient", "Discovery", "TestSupport", nioCore, nioPosix, nioHTTP1],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ServiceTracingTests",
            dependencies: [
                "ServiceTracing", "Discovery", "TestSupport", tracing, w3cTraceContext, metricsTestKit, logging, nioCore, nioHTTP1,
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RedisAdapterTests", dependencies: ["RedisAdapter", "ProcessSupervision", "TestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "MongoAdapterTests", dependencies: ["MongoAdapter", "TestSupport"], swiftSettings: swiftSettings),
        // ClusterRehearsal: its reading of the NetworkPolicies gives the matrix the design's table is checked against.
        .testTarget(
            name: "DeploymentTests", dependencies: ["Discovery", "ServiceRuntime", "ClusterRehearsal", "TestSupport", yams],
            swiftSettings: swiftSettings
        ),
    ]
    + services.map { service in
        .testTarget(
            name: "\(service.library)Tests",
            dependencies: [.target(name: service.library), "TestSupport", nioCore, nioHTTP1] + service.testDependencies,
            swiftSettings: swiftSettings
        )
    }
    + [
        .testTarget(
            name: "ControlSocketTests", dependencies: ["ControlSocket", "ProcessSupervision", "TestSupport"],
            path: "tools/Tests/ControlSocketTests", swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LocalEnvironmentTests",
            dependencies: ["LocalEnvironment", "ControlSocket", "ProcessSupervision", "TestSupport", yams, httpClient],
            path: "tools/Tests/LocalEnvironmentTests", swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RehearsalTests", dependencies: ["ClusterRehearsal", "TestSupport", httpClient],
            path: "tools/Tests/RehearsalTests", swiftSettings: swiftSettings
        ),
    ]

let package = Package(
    name: "micro",
    platforms: [.macOS(.v15)],
    products: [
        // The product: one image each.
        .executable(name: "adderservice", targets: ["adderservice"]),
        .executable(name: "auditservice", targets: ["auditservice"]),
        .executable(name: "eventservice", targets: ["eventservice"]),
        .executable(name: "webapp", targets: ["webapp"]),
        .executable(name: "report", targets: ["report"]),
        // The tooling.
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
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context.git", from: "1.0.0"),
    ],
    targets: product + tooling + tests
)
