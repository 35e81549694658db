import ServiceRuntime
import TestSupport
import Testing

/// `ServiceRuntime.drainLimit` is the one drain budget of the HTTP services: after SIGTERM a
/// service finishes within it, or a rollout SIGKILLs it mid-drain. Kubernetes sends SIGTERM when the preStop pause ends and
/// SIGKILL at terminationGracePeriodSeconds, so each manifest must leave the budget after the
/// pause, with time for the process to exit.
@Suite struct DrainBudgetTests {
    /// After the budget: cancellation reaches what still runs, and the process exits.
    static let exitMargin: Duration = .seconds(2)

    @Test(arguments: ["adderservice", "auditservice", "eventservice", "webapp"])
    func thePodAllowsTheDrainBudgetAfterItsPreStopPause(service: String) throws {
        let path = "deployment/base/\(service).yml"
        let pod = try Self.podSpec(of: service, in: Repository.text(path), source: path)
        // Kubernetes' default when the field is missing.
        let grace = try pod["terminationGracePeriodSeconds"].map { try YAMLValue.integer($0, at: "\(path) grace") } ?? 30
        let pause = try Self.preStopSleep(pod, path: path)
        let budget = ServiceRuntime.drainLimit + Self.exitMargin
        #expect(budget <= .seconds(grace - pause), "\(path): \(grace) s grace less a \(pause) s preStop leaves less than \(budget)")
    }

    /// The Deployment's pod spec (`spec.template.spec`).
    static func podSpec(of name: String, in yaml: String, source: String) throws -> [String: Any] {
        for object in try YAMLValue.documents(yaml, source: source) where object["kind"] as? String == "Deployment" {
            let metadata = try YAMLValue.mapping(object["metadata"], at: "\(source) metadata")
            guard metadata["name"] as? String == name else { continue }
            let spec = try YAMLValue.mapping(object["spec"], at: "\(source) spec")
            let template = try YAMLValue.mapping(spec["template"], at: "\(source) spec.template")
            return try YAMLValue.mapping(template["spec"], at: "\(source) spec.template.spec")
        }
        throw TestSupportError("\(source): no Deployment named \(name)")
    }

    /// The longest preStop pause of the pod's containers (`sleep.seconds`, or `exec` of `sleep N`).
    static func preStopSleep(_ pod: [String: Any], path: String) throws -> Int {
        var longest = 0
        for (index, value) in try YAMLValue.sequence(pod["containers"], at: "\(path) containers").enumerated() {
            let at = "\(path) containers[\(index)]"
            let container = try YAMLValue.mapping(value, at: at)
            guard let lifecycle = container["lifecycle"], let preStop = try YAMLValue.mapping(lifecycle, at: at)["preStop"] else {
                continue
            }
            let handler = try YAMLValue.mapping(preStop, at: "\(at).lifecycle.preStop")
            if let sleep = handler["sleep"] {
                longest = max(longest, try YAMLValue.integer(YAMLValue.mapping(sleep, at: at)["seconds"], at: "\(at) sleep.seconds"))
            } else if let exec = handler["exec"] {
                let command = try YAMLValue.sequence(YAMLValue.mapping(exec, at: at)["command"], at: "\(at) exec.command")
                let words = try command.map { try YAMLValue.string($0, at: "\(at) exec.command") }
                guard let sleep = words.firstIndex(of: "sleep"), sleep + 1 < words.count, let seconds = Int(words[sleep + 1]) else {
                    throw TestSupportError("\(at): a preStop exec that is not `sleep N`: \(words)")
                }
                longest = max(longest, seconds)
            }
        }
        return longest
    }
}
