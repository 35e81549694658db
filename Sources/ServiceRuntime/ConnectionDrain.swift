import Synchronization

/// The moment between SIGTERM and the server's graceful shutdown in which every response says
/// `Connection: close`.
///
/// A graceful shutdown closes each idle keep-alive connection at once, and a busy client has
/// often already sent its next request on it: that request fails (the cluster rehearsal lost one
/// per wrk connection in every webapp rollout). Closing after a response instead tells the
/// client to reconnect between requests — by then to another pod.
enum ConnectionDrain {
    /// Long enough for every busy connection to see one more response.
    static let notice: Duration = .seconds(1)

    private static let draining = Atomic<Bool>(false)

    static var isDraining: Bool { draining.load(ordering: .relaxed) }

    static func begin() { draining.store(true, ordering: .relaxed) }
}
