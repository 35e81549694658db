import NIOCore
import Synchronization

#if canImport(Glibc)
/// glibc's malloc_trim(3); Swift's Glibc module leaves malloc.h out.
@_silgen_name("malloc_trim")
private func malloc_trim(_ pad: Int) -> Int32
#endif

/// Every open connection of one server: the cap on how many may be open, closing what is left
/// when the drain budget ends, and handing memory back after a connection storm. (Telling each
/// connection to finish and waiting for them is NIO's ServerQuiescingHelper: HTTPServer.)
final class ConnectionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        /// Most connections open since memory was last handed back.
        var peak = 0
        var trimPending = false
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = limit
    }

    var count: Int { state.withLock { $0.channels.count } }

    /// Registers `channel` unless the cap is reached; it is removed again when it closes.
    func admit(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let admitted = state.withLock { state in
            guard state.channels.count < limit else { return false }
            state.channels[id] = channel
            state.peak = max(state.peak, state.channels.count)
            return true
        }
        guard admitted else { return false }
        channel.closeFuture.whenComplete { [self] _ in remove(id) }
        return true
    }

    private func remove(_ id: ObjectIdentifier) {
        let trim = state.withLock { state -> Bool in
            state.channels[id] = nil
            if state.channels.isEmpty { state.channels = [:] }  // a dictionary keeps its capacity otherwise
            // A storm has passed when most of its connections are gone again.
            guard !state.trimPending, state.peak >= Self.stormSize, state.channels.count <= state.peak / 8 else { return false }
            state.trimPending = true
            return true
        }
        if trim { returnFreedMemory() }
    }

    /// Connections at which a drop back counts as a storm passing.
    static let stormSize = 256

    /// glibc keeps the memory of freed connections in its arenas; after thousands of connections
    /// that is tens of megabytes the process would hold for good. malloc_trim hands the free
    /// pages back. It waits a moment, so the storm's last connections are closed (and freed)
    /// too, and it runs off the event loop: on a large heap it takes milliseconds.
    private func returnFreedMemory() {
        Task.detached(priority: .background) { [self] in
            try? await Task.sleep(for: .seconds(2))
            #if canImport(Glibc)
            _ = malloc_trim(0)
            #endif
            state.withLock { state in
                state.peak = state.channels.count
                state.trimPending = false
            }
        }
    }

    /// Closes every connection now: the drain's time is up.
    func closeAll() {
        for channel in state.withLock({ Array($0.channels.values) }) {
            channel.close(promise: nil)
        }
    }
}
