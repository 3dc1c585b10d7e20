import MVCC
import Synchronization

/// One client's Watch stream: the replies on their way to it, and its watchers.
///
/// Memory is bounded per stream by bytes: the hub sends events only while `hasRoom`, and a watcher
/// that finds no room falls back to replaying from the store once the client has read (as etcd
/// moves a slow watcher to its "victims" and later resyncs it), so no event is lost and none is held
/// twice. Control replies (created, canceled, progress) are bounded by the stream's reader, which
/// takes the client's next request only once the stream has room again.
package final class WatchStream: @unchecked Sendable {
    /// Reply bytes queued for the client and not yet written.
    package static let pendingBytesMax = 8 << 20
    /// Watchers on one stream. clientv3 puts every watch of a context on one stream, so a
    /// kube-apiserver-like client holds hundreds; this is far above that and still bounds the
    /// per-event fan-out one client can cause.
    package static let watchersMax = 10_000

    /// A reply with the bytes it counts for, so the writer releases exactly what was taken.
    package struct Queued: Sendable {
        package var reply: WatchReply
        package var bytes: Int
    }

    /// Where replies go (the gRPC stream's writer task, or an in-process client), and what ends it.
    private let sink: @Sendable (Queued) -> Void
    private let finishSink: @Sendable () -> Void
    private let pendingBytes = Atomic<Int>(0)

    // Loop state.
    package var watchers: [Int64: Watcher] = [:]
    package var nextWatchID: Int64 = 0
    package var closed = false
    /// A client's progress request waits here until every watcher on the stream has caught up.
    package var progressRequested = false
    /// `WatchFault` bookkeeping.
    package var faultCounter = 0
    package var heldForReorder: [Int64: WatchReply] = [:]

    package init(continuation: AsyncStream<Queued>.Continuation) {
        sink = { continuation.yield($0) }
        finishSink = { continuation.finish() }
    }

    /// A stream whose replies go to `sink` as they are queued.
    package init(sink: @escaping @Sendable (Queued) -> Void, finish: @escaping @Sendable () -> Void) {
        self.sink = sink
        finishSink = finish
    }

    /// No more replies: the server is stopping.
    package func finish() { finishSink() }

    /// Whether events may be queued now. A single reply larger than the bound still goes out when
    /// nothing else is waiting, or it could never be sent.
    package var hasRoom: Bool { pendingBytes.load(ordering: .relaxed) < Self.pendingBytesMax }

    package var queuedBytes: Int { pendingBytes.load(ordering: .relaxed) }

    /// Queues a reply. Event replies are sent only after checking `hasRoom`.
    package func send(_ reply: WatchReply) {
        guard !closed else { return }
        let bytes = reply.sizeBytes
        pendingBytes.add(bytes, ordering: .relaxed)
        sink(Queued(reply: reply, bytes: bytes))
    }

    /// The writer task wrote a reply to the client.
    package func written(_ queued: Queued) { pendingBytes.subtract(queued.bytes, ordering: .relaxed) }
}

/// One watcher: a key range, its filters, and how far it has been sent.
package struct Watcher {
    package var id: Int64
    package var key: [UInt8]
    package var rangeEnd: [UInt8]
    package var skipPuts: Bool
    package var skipDeletes: Bool
    package var withPrevious: Bool
    package var progressNotify: Bool
    package var fragment: Bool
    /// No event below this revision is sent: the start revision, then (while replaying) the first
    /// revision not yet sent. A synced watcher gets every later revision as it applies, so for it
    /// this is only a floor, which keeps a watch from a future revision from seeing earlier ones.
    package var nextRevision: Int64
    /// Caught up with the store: new events reach it as they apply. Otherwise it is replaying
    /// history and `WatchHub.catchUp` feeds it.
    package var synced: Bool
    package var lastSent: ContinuousClock.Instant

    package func covers(_ candidate: [UInt8]) -> Bool {
        if rangeEnd.isEmpty { return candidate == key }
        if rangeEnd == [0] { return !candidate.lexicographicallyPrecedes(key) }
        return !candidate.lexicographicallyPrecedes(key) && candidate.lexicographicallyPrecedes(rangeEnd)
    }

    package func wants(_ event: Event) -> Bool {
        switch event.kind {
        case .put: return !skipPuts && covers(event.kv.key)
        case .delete: return !skipDeletes && covers(event.kv.key)
        }
    }
}

