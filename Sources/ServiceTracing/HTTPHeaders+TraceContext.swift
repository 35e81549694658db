import Instrumentation
import NIOHTTP1
import W3CTraceContext

/// `traceparent` and `tracestate` in NIO's HTTP headers, for `MicroTracer.extract` and `inject`.
public struct HTTPHeadersExtractor: Extractor {
    public init() {}

    /// A name that appears more than once: W3C Trace Context makes a repeated `traceparent`
    /// invalid (nil here, so a new trace starts) and repeated `tracestate` one list.
    public func extract(key: String, from headers: HTTPHeaders) -> String? {
        var found: String?
        for (name, value) in headers where name.utf8.count == key.utf8.count && name.lowercased() == key {
            guard let earlier = found else {
                found = value
                continue
            }
            guard key == "tracestate" else { return nil }
            found = earlier + "," + value
        }
        return found
    }
}

public struct HTTPHeadersInjector: Injector {
    public init() {}

    public func inject(_ value: String, forKey key: String, into headers: inout HTTPHeaders) {
        headers.replaceOrAdd(name: key, value: value)
    }
}

extension HTTPHeaders {
    /// Adds the span's `traceparent` (and `tracestate` when it has one), as `MicroTracer.inject`
    /// writes them, from the span's own ids: without the `ServiceContext` of its children,
    /// which a client span needs for nothing else (~2,500 instructions; bench/RESULTS.md,
    /// "Tracing"). For headers that carry neither yet.
    public mutating func addTraceContext(of span: MicroSpan) {
        let own = span.ownContext
        add(name: "traceparent", value: own.traceparent)
        if let state = own.traceStateHeaderValue { add(name: "tracestate", value: state) }
    }
}
