import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Reads a child's output on a thread of its own (blocking read(2) — never on the cooperative
/// pool or an event loop) and hands it to the sink one whole line at a time.
public enum LineReader {
    /// `write` gets whole lines (one or more, without the last newline), on the reading thread.
    public static func start(
        descriptor: Int32, name: String, recent: RecentLines,
        write: @escaping @Sendable (String) -> Void, done: @escaping @Sendable () -> Void
    ) {
        let thread = Thread {
            read(descriptor, recent: recent, write: write)
            close(descriptor)
            done()
        }
        thread.name = "output-\(name)"
        thread.start()
    }

    private static func read(_ fd: Int32, recent: RecentLines, write: @Sendable (String) -> Void) {
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { break }
            pending += buffer[..<count]
            guard let lastNewline = pending.lastIndex(of: UInt8(ascii: "\n")) else { continue }
            emit(pending[..<lastNewline], recent: recent, write: write)
            pending.removeSubrange(...lastNewline)
        }
        if !pending.isEmpty { emit(pending[...], recent: recent, write: write) }
    }

    private static func emit(_ bytes: ArraySlice<UInt8>, recent: RecentLines, write: @Sendable (String) -> Void) {
        let text = String(decoding: bytes, as: UTF8.self)
        write(text)
        recent.append(text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init))
    }
}

/// The last `limit` lines a child printed.
public final class RecentLines: Sendable {
    private let limit: Int
    private let storage = Locked<[String]>([])

    public init(limit: Int) { self.limit = limit }

    public func append(_ lines: [String]) {
        storage.withLock { $0 = Array(($0 + lines).suffix(limit)) }
    }

    public var lines: [String] { storage.withLock { $0 } }
}

/// A value behind a lock, for the little state shared with Foundation's callback threads.
public final class Locked<Value>: @unchecked Sendable {
    // @unchecked: `value` is only touched while `lock` is held.
    private let lock = NSLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}
