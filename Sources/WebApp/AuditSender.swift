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
        let requests = DeliveryRequest.split(entries, bodyLimit: AuditAppend.maximumBodySize)
        return await withTaskGroup(of: [(entry: AuditOutbox.Entry, result: Result)].self) { group in
            for request in requests {
                group.addTask { Array(zip(request.entries, await self.deliver(request))) }
            }
            var results: [(entry: AuditOutbox.Entry, result: Result)] = []
            for await delivered in group { results += delivered }
            return results
        }
    }

    /// One request's entries, each as a consumer span that continues its page's trace (the
    /// entry's `traceparent`). The request itself joins the first traced entry's trace; the
    /// other entries' spans link to that one.
    private func deliver(_ request: DeliveryRequest) async -> [Result] {
        let entries = request.entries
        guard let tracer else { return await append(request, contexts: nil) }
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
        let results = await append(request, contexts: spans.map(\.context), carrier: carrier)
        for (span, result) in zip(spans, results) {
            if result != .delivered { span.setStatus(SpanStatus(code: .error)) }
            span.end()
        }
        return results
    }

    /// Appends a batch in one request (bodies sent as stored: auditservice checks each, and
    /// refuses a record it cannot store; delivery parses nothing). When auditservice refuses the
    /// request as a whole (one entry that is not JSON spoils the body) each entry goes alone to
    /// `/append`, so that only that one is dead-lettered. `contexts`: each entry's span, `carrier`
    /// the one the request is made in.
    private func append(_ request: DeliveryRequest, contexts: [ServiceContext]?, carrier: Int = 0) async -> [Result] {
        guard case .batch(let entries) = request else { return await appendEach(request.entries, contexts: contexts) }
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

/// One request of a delivery round: entries that share an `/append/batch` body, or one entry too
/// large for a batch of its own, sent alone to `/append`.
enum DeliveryRequest: Equatable {
    case batch([AuditOutbox.Entry])
    case alone(AuditOutbox.Entry)

    var entries: [AuditOutbox.Entry] {
        switch self {
        case .batch(let entries): entries
        case .alone(let entry): [entry]
        }
    }

    /// Consecutive entries, as many per batch as fit `bodyLimit` and
    /// `AuditAppendBatch.maximumRecords`, in order.
    static func split(_ entries: [AuditOutbox.Entry], bodyLimit: Int) -> [DeliveryRequest] {
        let empty = AuditAppendBatch.bodySize(recordSizes: [])
        var requests: [DeliveryRequest] = []
        var batch: [AuditOutbox.Entry] = []
        var size = empty
        for entry in entries {
            let bytes = entry.body.utf8.count
            if !batch.isEmpty, size + 1 + bytes > bodyLimit || batch.count == AuditAppendBatch.maximumRecords {
                requests.append(.batch(batch))
                batch = []
                size = empty
            }
            guard empty + bytes <= bodyLimit else {
                requests.append(.alone(entry))
                continue
            }
            size += (batch.isEmpty ? 0 : 1) + bytes
            batch.append(entry)
        }
        if !batch.isEmpty { requests.append(.batch(batch)) }
        return requests
    }
}
