import NIOCore
import Synchronization

#if canImport(Glibc)
/// glibc's malloc_trim(3); Swift's Glibc module leaves malloc.h out.
@_silgen_name("malloc_trim")
private func malloc_trim(_ pad: Int) -> Int32
#endif

/// Every open connection of one server: the cap on how many may be open, the graceful drain
/// (each connection is told to finish its request and close, and the drain completes when the
/// last has), closing what is left when the budget ends, and handing memory back after a
/// connection storm. One registry serves all four because all four need the same set.
///
/// swift-nio-extras' ServerQuiescingHelper does the drain too, but keeps a second set of every
/// connection whose table never shrinks: after HostileProcessTests' 5,000-connection storm it
/// held ~0.45 MB that the process otherwise hands back (2 % of an idle debug adderservice).
final class ConnectionRegistry: Sendable {
    private struct State {
        var channels: [ObjectIdentifier: any Channel] = [:]
        /// Most connections open since memory was last handed back.
        var peak = 0
        /// Draining: nothing is admitted, and this completes when the last connection closes.
        var drained: EventLoopPromise<Void>?
        var trimPending = false
    }

    let limit: Int
    private let state = Mutex(State())

    init(limit: Int) {
        self.limit = limit
    }

    var count: Int { state.withLock { $0.channels.count } }

    /// Registers `channel` unless the cap is reached or the server is draining; it is removed
    /// again when it closes.
    func admit(_ channel: any Channel) -> Bool {
        let id = ObjectIdentifier(channel)
        let admitted = state.withLock { state in
            guard state.drained == nil, state.channels.count < limit else { return false }
            state.channels[id] = channel
            state.peak = max(state.peak, state.channels.count)
            return true
        }
        guard admitted else { return false }
        channel.closeFuture.whenComplete { [self] _ in remove(id) }
        return true
    }

    private func remove(_ id: ObjectIdentifier) {
        var drained: EventLoopPromise<Void>?
        defer { drained?.succeed() }
        let trim = state.withLock { state -> Bool in
            state.channels[id] = nil
            if state.channels.isEmpty {
                state.channels = [:]  // a dictionary keeps its capacity otherwise
                swap(&drained, &state.drained)
            }
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

    /// Stops admitting connections and tells every open one to close once its current request
    /// is answered (HTTPConnectionHandler closes idle ones at once); `drained` completes when
    /// none is left.
    func quiesce(drained: EventLoopPromise<Void>) {
        let channels = state.withLock { state in
            if !state.channels.isEmpty { state.drained = drained }
            return Array(state.channels.values)
        }
        guard !channels.isEmpty else { return drained.succeed() }
        for channel in channels {
            channel.pipeline.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
    }

    /// Closes every connection now: the drain's time is up.
    func closeAll() {
        for channel in state.withLock({ Array($0.channels.values) }) {
            channel.close(promise: nil)
        }
    }
}
