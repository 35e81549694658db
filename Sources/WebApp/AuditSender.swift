import Contracts
import Logging
import Metrics
import ServiceTracing
import Tracing

/// How a delivery round's outbox entries reach auditservice: as few `POST /append/batch`
/// requests as its body limit allows (one, unless records are large), each entry's result
/// told apart — delivered, dead (auditservice refused it: never worth retrying) or failed
/// (auditservice unavailable: taken again later). Bodies are sent as stored: auditservice checks
/// each, so nothing here parses them.
struct AuditSender: Sendable {
    let audit: AuditClient
    /// The outbox stream's name, for the spans.
    let stream: String
    let logger: Logger
    let tracer: MicroTracer?
    /// Counts each entry whose append failed.
    let failures: Counter

    enum Result: Equatable, Sendable {
        case delivered
        case dead(String)
        case failed
    }

    /// The batch in as few `/append/batch` requests as auditservice's body limit allows (one,
    /// unless records are large), sent at once.
    func deliver(_ entries: [AuditOutbox.Entry]) async -> [(entry: AuditOutbox.Entry, result: Result)] {
        let requests = DeliveryRequests.split(entries, bodyLimit: AuditAppend.maximumBodySize)
        return await withTaskGroup(of: [(entry: AuditOutbox.Entry, result: Result)].self) { group in
            for request in requests {
                group.addTask { Array(zip(request, await self.deliver(request: request))) }
            }
            var results: [(entry: AuditOutbox.Entry, result: Result)] = []
            for await delivered in group { results += delivered }
            return results
        }
    }

    /// One request's entries, each as a consumer span that continues its page's trace (the
    /// entry's `traceparent`). The request itself joins the first traced entry's trace; the
    /// other entries' spans link to that one.
    private func deliver(request entries: [AuditOutbox.Entry]) async -> [Result] {
        guard let tracer, !entries.isEmpty else { return await append(entries, contexts: nil) }
        let spans = entries.map { entry in
            let span = tracer.startSpan(
                "deliver audit record", parent: tracer.parent(of: entry, using: OutboxEntryExtractor()), ofKind: .consumer)
            span.addAttributes { attributes in
                attributes.add("messaging.system", "redis")
                attributes.add("messaging.destination.name", stream)
                attributes.add("messaging.message.id", entry.id)
                attributes.add("messaging.batch.message_count", Int64(entries.count))
            }
            return span
        }
        let carrier = entries.firstIndex { $0.traceparent != nil } ?? entries.startIndex
        for index in spans.indices where index != carrier {
            spans[index].addLink(SpanLink(context: spans[carrier].context, attributes: [:]))
        }
        let results = await append(entries, contexts: spans.map(\.context), carrier: carrier)
        for (span, result) in zip(spans, results) {
            if result != .delivered { span.setStatus(SpanStatus(code: .error)) }
            span.end()
        }
        return results
    }

    /// Appends the entries in one request (bodies sent as stored: auditservice checks each, and
    /// refuses a record it cannot store; delivery parses nothing). An entry too large to share a
    /// request goes alone to `/append`; so do all of them when auditservice refuses the request
    /// as a whole (one entry that is not JSON spoils the body), so that only that one is
    /// dead-lettered. `contexts`: each entry's span, `carrier` the one the request is made in.
    private func append(_ entries: [AuditOutbox.Entry], contexts: [ServiceContext]?, carrier: Int = 0) async -> [Result] {
        guard DeliveryRequests.fitsBatch(entries, bodyLimit: AuditAppend.maximumBodySize) else {
            return await appendEach(entries, contexts: contexts)
        }
        do {
            let refused = try await ServiceContext.$current.withValue(contexts?[carrier] ?? ServiceContext.current) {
                try await audit.appendBatch(records: entries.map(\.body))
            }
            var results = [Result](repeating: .delivered, count: entries.count)
            for refusal in refused where results.indices.contains(refusal.index) {
                results[refusal.index] = dead(entries[refusal.index], "auditservice rejected the record: \(refusal.error)")
            }
            return results
        } catch is AuditClient.Rejected {
            logger.notice("auditservice refused a batch; appending its records one by one", metadata: ["records": "\(entries.count)"])
            return await appendEach(entries, contexts: contexts)
        } catch {
            failures.increment(by: entries.count)
            return [Result](repeating: .failed, count: entries.count)
        }
    }

    private func appendEach(_ entries: [AuditOutbox.Entry], contexts: [ServiceContext]?) async -> [Result] {
        var results: [Result] = []
        for (index, entry) in entries.enumerated() {
            results.append(await ServiceContext.$current.withValue(contexts?[index] ?? ServiceContext.current) { await append(entry) })
        }
        return results
    }

    private func append(_ entry: AuditOutbox.Entry) async -> Result {
        do {
            try await audit.append(json: entry.body)
            return .delivered
        } catch let error as AuditClient.Rejected {
            return dead(entry, error.description)
        } catch {
            failures.increment()
            return .failed
        }
    }

    private func dead(_ entry: AuditOutbox.Entry, _ reason: String) -> Result {
        logger.error("audit record refused, dead-lettered", metadata: ["record": "\(entry.body)", "error": "\(reason)"])
        return .dead(reason)
    }
}

/// The `traceparent` an outbox entry carries, for `MicroTracer.extract`.
struct OutboxEntryExtractor: Extractor {
    func extract(key: String, from entry: AuditOutbox.Entry) -> String? {
        key == "traceparent" ? entry.traceparent : nil
    }
}

/// How a round's entries are split into `/append/batch` requests under auditservice's body limit.
enum DeliveryRequests {
    /// Consecutive entries, as many per request as fit `bodyLimit` and
    /// `AuditAppendBatch.maximumRecords`; an entry too large for a batch of its own is a request
    /// of its own (sent to `/append`).
    static func split(_ entries: [AuditOutbox.Entry], bodyLimit: Int) -> [[AuditOutbox.Entry]] {
        var requests: [[AuditOutbox.Entry]] = []
        var current: [AuditOutbox.Entry] = []
        var size = AuditAppendBatch.bodySize(recordSizes: [])
        for entry in entries {
            let added = entry.body.utf8.count + (current.isEmpty ? 0 : 1)
            if !current.isEmpty, size + added > bodyLimit || current.count == AuditAppendBatch.maximumRecords {
                requests.append(current)
                current = []
                size = AuditAppendBatch.bodySize(recordSizes: [])
            }
            size += entry.body.utf8.count + (current.isEmpty ? 0 : 1)
            current.append(entry)
        }
        if !current.isEmpty { requests.append(current) }
        return requests
    }

    /// Whether the entries' batch body is within `bodyLimit`.
    static func fitsBatch(_ entries: [AuditOutbox.Entry], bodyLimit: Int) -> Bool {
        AuditAppendBatch.bodySize(recordSizes: entries.lazy.map { $0.body.utf8.count }) <= bodyLimit
    }
}
