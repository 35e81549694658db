#if canImport(Glibc)
import Glibc
#endif

/// What the launcher is asked to do (the command line, already parsed).
public struct LaunchOptions: Sendable {
    /// The description, `fuge/fuge.yml`; the project root is the folder above it.
    public var fugePath: String
    /// Folder holding the built services; nil: each entry's `run` command as written
    /// (`.build/release/<service>` in micro's fuge.yml).
    public var binDirectory: String?
    /// Where the databases keep their data and dnsmasq/nx-27017 their files; nil: `<root>/.build/localenv`.
    public var stateDirectory: String?
    /// DNS port instead of fuge.yml's `dns_port` (tests, or a second system beside a running one).
    public var dnsPort: Int?
    /// `entry → port` instead of the entry's first port in fuge.yml; `entry.name → port` instead
    /// of its port of that name (`adderservice.metrics`).
    public var portOverrides: [String: Int]
    /// Start only these entries (DNS always runs and answers for every entry); nil: all.
    public var only: [String]?
    /// How long to wait for every `/readyz` before saying which are not ready (the system keeps running).
    public var readyTimeout: Duration
    /// SIGTERM → SIGKILL grace when stopping a component.
    public var stopGrace: Duration
    /// A component that exits this many times in a row before becoming ready is given up on.
    public var maxStartFailures: Int
    /// The launcher's environment, passed on to every child (plus the DNS and port variables).
    public var environment: [String: String]
    /// Colour the name prefixes; nil: when stdout is a terminal.
    public var color: Bool?
    /// Watch `Sources/`, rebuild what changed and replace the running services (needs fuge.yml's
    /// `monitor: true`).
    public var watch: Bool
    /// How watch mode builds one service: this command with `--product <name>` appended, run in
    /// the project root; the first word is looked up on PATH, or relative to the root when it
    /// has a slash (`scripts/build-release`).
    public var buildCommand: [String]
    /// Root: what the Prometheus entry needs (`PrometheusStandIn`); without it, that entry is left out.
    public var privileged: Bool

    public init(
        fugePath: String = "fuge/fuge.yml", binDirectory: String? = nil, stateDirectory: String? = nil,
        dnsPort: Int? = nil, portOverrides: [String: Int] = [:], only: [String]? = nil,
        readyTimeout: Duration = .seconds(60), stopGrace: Duration = .seconds(5), maxStartFailures: Int = 5,
        environment: [String: String] = [:], color: Bool? = nil, watch: Bool = false,
        buildCommand: [String] = ["swift", "build", "-c", "release"], privileged: Bool = geteuid() == 0
    ) {
        self.fugePath = fugePath
        self.binDirectory = binDirectory
        self.stateDirectory = stateDirectory
        self.dnsPort = dnsPort
        self.portOverrides = portOverrides
        self.only = only
        self.readyTimeout = readyTimeout
        self.stopGrace = stopGrace
        self.maxStartFailures = maxStartFailures
        self.environment = environment
        self.color = color
        self.watch = watch
        self.buildCommand = buildCommand
        self.privileged = privileged
    }
}
