import EtcdAPI
import Foundation
import MVCC
import Synchronization

/// One client's Watch stream: the responses on their way to it, and its watchers.
final class WatchStream: @unchecked Sendable {
    /// Responses queued for the client and not yet written. A client that reads slower than the
    /// cluster writes would otherwise hold the server's memory without bound; past this, its watchers
    /// are cancelled with a reason and it must watch again from the revision it reached.
    static let unreadResponsesMax = 4096

    let continuation: AsyncStream<Etcdserverpb_WatchResponse>.Continuation
    let unread = Atomic<Int>(0)
    // Loop state.
    var watchers: [Int64: Watcher] = [:]
    var nextWatchID: Int64 = 0
    var closed = false
    /// Cluster and member ids for the headers of event responses.
    var headerTemplate = Etcdserverpb_ResponseHeader()

    init(continuation: AsyncStream<Etcdserverpb_WatchResponse>.Continuation) {
        self.continuation = continuation
    }

    /// Queues a response; false when the client has fallen too far behind.
    func send(_ response: Etcdserverpb_WatchResponse, evenIfBehind: Bool = false) -> Bool {
        guard !closed else { return false }
        if unread.add(1, ordering: .relaxed).newValue > Self.unreadResponsesMax && !evenIfBehind {
            unread.subtract(1, ordering: .relaxed)
            return false
        }
        continuation.yield(response)
        return true
    }

    /// The writer task wrote one response to the client.
    func written() { unread.subtract(1, ordering: .relaxed) }
}

/// One watcher: a key range, its filters, and how far it has been sent.
struct Watcher {
    var id: Int64
    var key: [UInt8]
    var rangeEnd: [UInt8]
    var skipPuts: Bool
    var skipDeletes: Bool
    var withPrevious: Bool
    var progressNotify: Bool
    /// The first revision not yet sent.
    var nextRevision: Int64
    /// Caught up with the store: new events reach it as they apply. Otherwise it is still replaying
    /// history and `catchUp` feeds it.
    var synced: Bool
    var lastSent: ContinuousClock.Instant

    func covers(_ candidate: [UInt8]) -> Bool {
        if rangeEnd.isEmpty { return candidate == key }
        if rangeEnd == [0] { return !candidate.lexicographicallyPrecedes(key) }
        return !candidate.lexicographicallyPrecedes(key) && candidate.lexicographicallyPrecedes(rangeEnd)
    }

    func wants(_ event: Event) -> Bool {
        switch event.kind {
        case .put: return !skipPuts
        case .delete: return !skipDeletes
        }
    }
}

/// Every watch on this node. Loop state: all methods run on the replica loop's thread.
final class WatchHub {
    /// Events replayed per watcher per loop iteration, so one watch of a long history cannot stall
    /// the loop.
    static let catchUpEventsMax = 1000
    /// etcd's default progress-notify interval.
    static let progressInterval: Duration = .seconds(600)

    private var streams: [ObjectIdentifier: WatchStream] = [:]
    private var unsyncedCount = 0
    /// The revision of the last events dispatched: where synced watchers stand.
    private var lastRevision: Int64 = 0

    func add(_ stream: WatchStream) { streams[ObjectIdentifier(stream)] = stream }

    func remove(_ stream: WatchStream) {
        stream.closed = true
        streams.removeValue(forKey: ObjectIdentifier(stream))
        recount()
    }

    func closeAll() {
        for stream in streams.values {
            stream.closed = true
            stream.continuation.finish()
        }
        streams.removeAll()
    }

    func create(_ request: Etcdserverpb_WatchCreateRequest, on stream: WatchStream, store: MVCCStore, header: Etcdserverpb_ResponseHeader) {
        var id = request.watchID
        if id == 0 || stream.watchers[id] != nil {
            while stream.watchers[stream.nextWatchID] != nil { stream.nextWatchID += 1 }
            id = stream.nextWatchID
            stream.nextWatchID += 1
        }
        var created = Etcdserverpb_WatchResponse()
        created.header = header
        created.watchID = id
        created.created = true
        _ = stream.send(created, evenIfBehind: true)
        let start = request.startRevision <= 0 ? store.revision + 1 : request.startRevision
        if start < store.compactedRevision {
            // etcd: a watch from a compacted revision is created, then cancelled with the compact
            // revision, so the client knows to read the current state and watch again.
            var cancelled = Etcdserverpb_WatchResponse()
            cancelled.header = header
            cancelled.watchID = id
            cancelled.compactRevision = store.compactedRevision
            cancelled.canceled = true
            _ = stream.send(cancelled, evenIfBehind: true)
            return
        }
        let synced = start > store.revision
        stream.watchers[id] = Watcher(
            id: id, key: request.key.bytes, rangeEnd: request.rangeEnd.bytes,
            skipPuts: request.filters.contains(.noput), skipDeletes: request.filters.contains(.nodelete),
            withPrevious: request.prevKv, progressNotify: request.progressNotify,
            nextRevision: synced ? store.revision + 1 : start, synced: synced, lastSent: ContinuousClock.now
        )
        if !synced { unsyncedCount += 1 }
    }

    func cancel(_ watchID: Int64, on stream: WatchStream, header: Etcdserverpb_ResponseHeader) {
        guard let watcher = stream.watchers.removeValue(forKey: watchID) else { return }
        if !watcher.synced { unsyncedCount -= 1 }
        var response = Etcdserverpb_WatchResponse()
        response.header = header
        response.watchID = watchID
        response.canceled = true
        _ = stream.send(response, evenIfBehind: true)
    }

    /// A progress request: the current revision, once every watcher on the stream is caught up
    /// (etcd answers only then, with watch id -1).
    func progress(on stream: WatchStream, header: Etcdserverpb_ResponseHeader) {
        guard stream.watchers.values.allSatisfy(\.synced) else { return }
        var response = Etcdserverpb_WatchResponse()
        response.header = header
        response.watchID = -1
        _ = stream.send(response)
    }

    /// Fans one applied command's events out to the synced watchers that want them.
    func dispatch(_ events: [Event], revision: Int64) {
        lastRevision = revision
        guard !events.isEmpty, !streams.isEmpty else { return }
        let now = ContinuousClock.now
        for stream in streams.values {
            var sent: [Int64] = []
            var behind = false
            for (id, watcher) in stream.watchers where watcher.synced {
                let wanted = events.filter { watcher.covers($0.kv.key) && watcher.wants($0) }
                guard !wanted.isEmpty else { continue }
                var response = Etcdserverpb_WatchResponse()
                response.header = stream.headerTemplate
                response.header.revision = revision
                response.watchID = id
                response.events = wanted.map { $0.proto(withPrevious: watcher.withPrevious) }
                guard stream.send(response) else {
                    behind = true
                    break
                }
                sent.append(id)
            }
            if behind {
                tooSlow(stream)
            } else {
                // Only progress notifications read `lastSent`; other watchers skip the dictionary write.
                for id in sent where stream.watchers[id]?.progressNotify == true { stream.watchers[id]?.lastSent = now }
            }
        }
    }

    /// Replays history to watchers that started in the past, a bounded amount per call.
    func catchUp(store: MVCCStore, header: Etcdserverpb_ResponseHeader) {
        guard unsyncedCount > 0 else { return }
        for stream in streams.values {
            for (id, watcher) in stream.watchers where !watcher.synced {
                var updated = watcher
                let batch: (events: [Event], more: Bool)
                do throws(MVCCError) {
                    batch = try store.events(key: watcher.key, rangeEnd: watcher.rangeEnd, from: watcher.nextRevision, limit: Self.catchUpEventsMax)
                } catch {
                    if case .compacted(let compactRevision) = error {
                        stream.watchers.removeValue(forKey: id)
                        unsyncedCount -= 1
                        var cancelled = Etcdserverpb_WatchResponse()
                        cancelled.header = header
                        cancelled.watchID = id
                        cancelled.compactRevision = compactRevision
                        cancelled.canceled = true
                        _ = stream.send(cancelled, evenIfBehind: true)
                    }
                    continue
                }
                var events = batch.events
                if batch.more, let last = events.last?.kv.modRevision, events.first?.kv.modRevision != last {
                    // Never split one revision's events across responses: stop before the last one.
                    events.removeAll { $0.kv.modRevision == last }
                    updated.nextRevision = last
                } else if let last = events.last?.kv.modRevision {
                    updated.nextRevision = last + 1
                }
                if !batch.more {
                    updated.synced = true
                    updated.nextRevision = store.revision + 1
                    unsyncedCount -= 1
                }
                let wanted = events.filter(watcher.wants)
                if !wanted.isEmpty {
                    var response = Etcdserverpb_WatchResponse()
                    response.header = header
                    response.watchID = id
                    response.events = wanted.map { $0.proto(withPrevious: watcher.withPrevious) }
                    if !stream.send(response) {
                        tooSlow(stream)
                        break
                    }
                    updated.lastSent = ContinuousClock.now
                }
                stream.watchers[id] = updated
            }
        }
    }

    /// Progress notifications for watchers that asked for them and heard nothing for a while.
    func sendProgress(now: ContinuousClock.Instant, header: Etcdserverpb_ResponseHeader) {
        for stream in streams.values {
            for (id, watcher) in stream.watchers where watcher.progressNotify && watcher.synced && now - watcher.lastSent >= Self.progressInterval {
                var response = Etcdserverpb_WatchResponse()
                response.header = header
                response.watchID = id
                if stream.send(response) { stream.watchers[id]?.lastSent = now }
            }
        }
    }

    /// The store was replaced by a snapshot: every watcher replays from where it was.
    func storeReplaced() {
        for stream in streams.values {
            for id in stream.watchers.keys where stream.watchers[id]!.synced {
                stream.watchers[id]!.synced = false
                stream.watchers[id]!.nextRevision = lastRevision + 1
            }
        }
        recount()
    }

    private func tooSlow(_ stream: WatchStream) {
        for id in stream.watchers.keys.sorted() {
            var response = Etcdserverpb_WatchResponse()
            response.watchID = id
            response.canceled = true
            response.cancelReason = "synod: the client read too slowly: more than \(WatchStream.unreadResponsesMax) responses were waiting; watch again from the last revision received"
            _ = stream.send(response, evenIfBehind: true)
        }
        stream.watchers.removeAll()
        recount()
    }

    private func recount() {
        unsyncedCount = streams.values.reduce(0) { $0 + $1.watchers.values.filter { !$0.synced }.count }
    }

}
