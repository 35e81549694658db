import NIOCore
import NIOHTTP1

/// What a client sent behind a request still being answered (HTTP/1 pipelining): its request
/// parts and decoder errors, kept in arrival order until that answer is written.
struct PipelinedInput {
    enum Item {
        case part(HTTPServerRequestPart)
        /// The decoder found the bytes after the pending request malformed: a 400 in its turn.
        case malformed
    }

    private var items = CircularBuffer<Item>(initialCapacity: 2)
    /// The channel asked to read while an answer was pending; it reads once that is written.
    var readHeld = false
    /// Waiting items are being taken up: answers given meanwhile must not start a second pass.
    var replaying = false

    var isEmpty: Bool { items.isEmpty }

    mutating func append(_ item: Item) {
        items.append(item)
    }

    /// The next waiting item, if the connection can take it now.
    mutating func next(whileAccepting accepting: Bool) -> Item? {
        accepting ? items.popFirst() : nil
    }

    mutating func removeAll() {
        items.removeAll()
    }
}
