import Contracts
import Foundation
import Logging
import NIOHTTP1
import Queueing
import ServiceRuntime
import Synchronization
import TestSupport
import Testing

@testable import WebApp

/// The recorder's own rules, with a sink the test can switch off: order, batching, the bound.
/// (Against a real redis-server: `RedisEventTests`.)
@Suite struct EventRecorderTests {
    /// A sink that is "down" (throws like a lost connection) until switched on.
    final class SwitchableSink: EventSink {
        struct Down: Error {}
        let up = Atomic<Bool>(true)
        let batches = Synchronization.Mutex<[[String]]>([])
        func push(_ messages: [String]) async throws {
            guard up.load(ordering: .relaxed) else { throw Down() }
            batches.withLock { $0.append(messages) }
        }
        var messages: [String] { batches.withLock { $0.flatMap { $0 } } }
    }

    static func url(of message: String) -> String? {
        struct Record: Decodable { let action: String; let type: String; let url: String }
        guard let record = try? JSONDecoder().decode(Record.self, from: Data(message.utf8)),
            record.action == "record", record.type == "page"
        else { return nil }
        return record.url
    }

    @Test func messageIsTheSeedsRecordFormatWithAnID() throws {
        let message = EventQueueContract.recordMessage(url: "/add", id: "0a1b-2c")
        #expect(message == #"{"action":"record","type":"page","url":"/add","id":"0a1b-2c"}"#)
    }

    @Test func aTracedPagesMessageCarriesItsTraceparent() throws {
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let message = EventQueueContract.recordMessage(url: "/add", id: "0a1b-2c", traceparent: traceparent)
        #expect(message == #"{"action":"record","type":"page","url":"/add","id":"0a1b-2c","traceparent":"\#(traceparent)"}"#)
        struct Record: Decodable { let url: String; let id: String; let traceparent: String }
        let record = try JSONDecoder().decode(Record.self, from: Data(message.utf8))
        #expect(record.traceparent == traceparent && record.url == "/add" && record.id == "0a1b-2c")
    }

    /// Text that is not shaped like a traceparent never goes into a message.
    @Test(arguments: [
        #"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0","x":""#,  // 55 bytes that would add a field
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",  // too long
        "", "\n",
    ])
    func whatIsNotATraceparentIsLeftOut(text: String) {
        let plain = EventQueueContract.recordMessage(url: "/add", id: "1")
        #expect(EventQueueContract.recordMessage(url: "/add", id: "1", traceparent: text) == plain)
    }

    /// The traceparent is dropped rather than take a message past the eventservice's limit.
    @Test func theTraceparentNeverTakesAMessagePastTheLimit() {
        let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        let limit = EventQueueContract.maximumMessageBytes
        let added = "\",\"traceparent\":\"".utf8.count + traceparent.utf8.count
        func message(totalWithout size: Int, traced: Bool) -> String {
            let url = "/" + String(repeating: "a", count: size - EventQueueContract.recordMessage(url: "/", id: "1").utf8.count)
            return EventQueueContract.recordMessage(url: url, id: "1", traceparent: traced ? traceparent : nil)
        }
        #expect(message(totalWithout: limit - added, traced: true).utf8.count == limit)
        #expect(message(totalWithout: limit - added, traced: true).hasSuffix(#""traceparent":"\#(traceparent)"}"#))
        #expect(!message(totalWithout: limit - added + 1, traced: true).contains("traceparent"))
        #expect(message(totalWithout: limit, traced: true).utf8.count == limit)
    }

    /// The hand-written message must mean exactly what JSONEncoder writes, for any URL.
    @Test(arguments: [
        "http://localhost:3000/add", #"http://h/a"b\c"#, "http://h/\u{0}\u{1}\u{1F}\n\r\t\u{8}\u{C}",
        "http://h/é/😀/\u{7F}", "http://h/</script>", "",
    ])
    func messageMatchesJSONEncoder(url: String) throws {
        struct Record: Codable, Equatable { var action = "record"; var type = "page"; let url: String; let id: String }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let message = EventQueueContract.recordMessage(url: url, id: "id-\(url.count)")
        let decoded = try JSONDecoder().decode(Record.self, from: Data(message.utf8))
        #expect(decoded == Record(url: url, id: "id-\(url.count)"))
        #expect(try encoder.encode(decoded) == encoder.encode(Record(url: url, id: "id-\(url.count)")))
        #expect(Self.url(of: message) == url)
    }

    /// A page's event is counted under the route's declared name, however the request spelt its
    /// path: percent-encoded, absolute-form, with a query.
    @Test func eventKeyIsTheRouteWhateverThePathsSpelling() async throws {
        try await Harness.with { harness in
            let sink = MemoryEventSink()
            try await harness.makeApp(sink: sink).app.test { client in
                for uri in ["/ad%64", "http://evil.example/audit", "/%61dd/calculate", "/?q=1"] {
                    _ = try await client.get(uri)
                }
                let arrived = await eventually { sink.messages.withLock { $0.count } == 4 }
                #expect(arrived)
                let urls = sink.messages.withLock { $0 }.compactMap(Self.url)
                #expect(urls == ["/add", "/audit", "/add/calculate", "/"])
                #expect(Set(urls).isSubset(of: WebAppRoutes.pagePaths.map(\.name)))
            }
        }
    }

    @Test func bufferKeepsOrderAndRefusesBeyondItsCapacity() {
        let buffer = EventBuffer(capacity: 3)
        for index in 1...5 { buffer.offer(PageEvent(url: "/\(index)")) }
        #expect(buffer.count == 3)
        #expect(buffer.take(upTo: 2).map(\.url) == ["/1", "/2"])
        #expect(buffer.offer(PageEvent(url: "/6")))
        #expect(buffer.take(upTo: 10).map(\.url) == ["/3", "/6"])
    }

    @Test func eventsWaitWhileTheSinkIsDownAndFlowWhenItReturns() async throws {
        let sink = SwitchableSink()
        sink.up.store(false, ordering: .relaxed)
        var settings = EventRecorder.Settings()
        settings.backoff = Backoff(initial: .milliseconds(10), maximum: .milliseconds(50))
        let recorder = EventRecorder(sink: sink, settings: settings, logger: Logger(label: "test"))
        let running = Task { try await recorder.run() }
        defer { running.cancel() }
        for index in 1...50 { recorder.record(url: "http://localhost/\(index)") }
        try await Task.sleep(for: .milliseconds(150))
        #expect(sink.messages.isEmpty)
        sink.up.store(true, ordering: .relaxed)
        let delivered = await eventually { sink.messages.count == 50 }
        #expect(delivered)
        #expect(sink.messages.compactMap(Self.url) == (1...50).map { "http://localhost/\($0)" })
        #expect(sink.batches.withLock { $0.count } < 50, "events travel in batches")
    }

    @Test func overflowIsDroppedNotBlocking() async throws {
        let sink = SwitchableSink()
        sink.up.store(false, ordering: .relaxed)
        var settings = EventRecorder.Settings()
        settings.capacity = 100
        settings.batchSize = 10
        let recorder = EventRecorder(sink: sink, settings: settings, logger: Logger(label: "test"))
        let running = Task { try await recorder.run() }
        defer { running.cancel() }
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for index in 1...1000 { recorder.record(url: "http://localhost/\(index)") }
        }
        #expect(elapsed < .milliseconds(500))
        // At most one batch in the sender's hands plus a full buffer survive.
        #expect(recorder.buffer.count <= 100)
        sink.up.store(true, ordering: .relaxed)
        let drained = await eventually { recorder.buffer.count == 0 && sink.messages.count >= 100 }
        #expect(drained)
        #expect(sink.messages.count <= 110)
    }

    /// (Random Host headers over raw sockets: `EventIntegrityTests`.)
    @Test func eventKeyIsTheRouteWhateverTheSchemeOrTheQuery() async throws {
        try await Harness.with { harness in
            let sink = MemoryEventSink()
            try await harness.makeApp(sink: sink).app.test { client in
                _ = try await client.get("/add?x=1")
                _ = try await client.execute("GET", "/audit", headers: [("X-Forwarded-Proto", "https")])
                let arrived = await eventually { sink.messages.withLock { $0.count } == 2 }
                #expect(arrived)
                let urls = sink.messages.withLock { $0 }.compactMap(Self.url)
                #expect(urls == ["/add", "/audit"])
            }
        }
    }

    @Test func pageRequestsAreRecordedButNotTheStylesheetOrUnknownPaths() async throws {
        try await Harness.with { harness in
            let sink = MemoryEventSink()
            try await harness.makeApp(sink: sink).app.test { client in
                for uri in ["/", "/add", "/audit", "/stylesheets/style.css", "/nope"] {
                    _ = try await client.get(uri)
                }
                _ = try await client.submitAdd(first: "1", second: "1")
                let arrived = await eventually { sink.messages.withLock { $0.count } >= 4 }
                #expect(arrived)
                try await Task.sleep(for: .milliseconds(50))
                let urls = sink.messages.withLock { $0 }.compactMap(Self.url)
                #expect(urls == ["/", "/add", "/audit", "/add/calculate"])
            }
        }
    }
}
