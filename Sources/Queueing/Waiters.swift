/// Callers suspended until something is handed to them, first come first served. Each has an id,
/// so a caller that is cancelled or whose deadline passes is taken out and resumed by whoever
/// noticed, and nothing is handed to it after that.
///
/// A plain value, kept under its owner's lock (`AsyncQueue`'s, or the connection pool's, whose
/// hand-off must decide between a waiter and its idle list in the same critical section); the
/// owner resumes the continuations it takes out after unlocking.
public struct Waiters<Element: Sendable> {
    public typealias Continuation = CheckedContinuation<Element, any Error>

    /// One caller's place, made before it suspends so its cancellation handler can name it.
    public struct ID: Hashable, Sendable {
        @usableFromInline let value: UInt64
        @usableFromInline init(value: UInt64) { self.value = value }
    }

    @usableFromInline var waiting: [(id: ID, continuation: Continuation)] = []
    @usableFromInline var nextID: UInt64 = 0

    @inlinable public init() {}

    @inlinable public var count: Int { waiting.count }
    @inlinable public var isEmpty: Bool { waiting.isEmpty }

    @inlinable public mutating func makeID() -> ID {
        defer { nextID &+= 1 }
        return ID(value: nextID)
    }

    @inlinable public mutating func append(_ continuation: Continuation, id: ID) {
        waiting.append((id, continuation))
    }

    /// The longest-waiting caller, taken out, to resume with an element.
    @inlinable public mutating func removeFirst() -> Continuation? {
        waiting.isEmpty ? nil : waiting.removeFirst().continuation
    }

    /// The caller `id`, taken out to be resumed with an error; nil when it was already handed
    /// something (or never suspended).
    @inlinable public mutating func remove(_ id: ID) -> Continuation? {
        guard let index = waiting.firstIndex(where: { $0.id == id }) else { return nil }
        return waiting.remove(at: index).continuation
    }

    /// Every caller, taken out (shutdown).
    @inlinable public mutating func removeAll() -> [Continuation] {
        defer { waiting.removeAll() }
        return waiting.map(\.continuation)
    }
}
