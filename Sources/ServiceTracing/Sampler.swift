import Discovery
import W3CTraceContext

/// Which traces are recorded and exported (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`).
/// A trace that is not sampled still has its ids: they are logged and propagated, with the
/// `sampled` flag off, so the services after this one make the same decision.
public struct Sampler: Sendable, Equatable {
    public enum Root: Sendable, Equatable {
        case always
        case never
        /// This fraction of traces, chosen by the trace id, so every service chooses alike.
        case ratio(Double)
    }

    /// For a trace that starts here (no parent), or for every span when `followsParent` is false.
    public var root: Root
    /// A span with a parent is sampled exactly when its parent was (the `parentbased_*` samplers).
    public var followsParent: Bool

    public init(root: Root, followsParent: Bool) {
        self.root = root
        self.followsParent = followsParent
    }

    public static func parentBased(root: Root) -> Sampler { Sampler(root: root, followsParent: true) }

    /// Whether a span of `traceID` under `parentSampled` (nil: no parent) is sampled.
    func samples(traceID: TraceID, parentSampled: Bool?) -> Bool {
        if followsParent, let parentSampled { return parentSampled }
        switch root {
        case .always: return true
        case .never: return false
        case .ratio(let ratio):
            // The trace id's 56 lowest bits, the random part W3C Trace Context level 2 promises.
            return Double(traceID.low56) < ratio * 72_057_594_037_927_936.0
        }
    }

    static func read(from reader: EnvironmentReader) throws(ConfigurationError) -> Sampler {
        let names = [
            "always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio",
        ]
        let name = try reader.choice("OTEL_TRACES_SAMPLER", from: names) ?? "parentbased_always_on"
        var ratio = 1.0
        if let text = reader.string("OTEL_TRACES_SAMPLER_ARG") {
            guard let value = Double(text), (0...1).contains(value) else {
                throw ConfigurationError(
                    variable: "OTEL_TRACES_SAMPLER_ARG", value: text, reason: "expected a sampling ratio from 0 to 1, e.g. 0.25")
            }
            ratio = value
        }
        let root: Root =
            switch name.hasPrefix("parentbased_") ? String(name.dropFirst("parentbased_".count)) : name {
            case "always_on": .always
            case "always_off": .never
            default: .ratio(ratio)
            }
        return Sampler(root: root, followsParent: name.hasPrefix("parentbased_"))
    }
}
