import Queueing

/// The bounded FIFO of page events between the request path and the background sender: appending
/// (`offer`) never waits, and a full buffer refuses the event, which the caller counts; the sender
/// waits for the first event and takes the rest waiting, up to a batch, in one go (`take(upTo:)`).
typealias EventBuffer = AsyncQueue<PageEvent>

/// One page view, as the event's URL and the page's `traceparent` when it was traced. Encoded
/// into the queue message by the sender, off the request path.
struct PageEvent: Sendable, Equatable {
    let url: String
    var traceparent: String? = nil
}
