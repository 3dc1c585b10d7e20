import EtcdAPI
import Foundation
import MVCC

/// Every watch on this node. Loop state: all methods run on the replica loop's thread.
///
/// The guarantees are etcd's (api_guarantees.md): a watcher gets every matching event from its
/// start revision on (never one below it), in revision order, each once, with all of one
/// revision's events in one reply, until it is canceled or its revision is compacted.
package final class WatchHub {
    /// Events replayed per watcher per loop iteration (whole revisions: more when one revision is
    /// larger), so one watch of a long history cannot stall the loop.
    package static let catchUpEventsPerWatcherMax = 1000
    /// Events replayed per loop iteration over all watchers.
    package static let catchUpEventsPerIterationMax = 10_000
    /// Changes looked at per watcher, and over all watchers, per loop iteration: a watcher of a
    /// narrow range far behind scans every key's changes, most of which it does not want.
    package static let catchUpScanPerWatcherMax = 10_000
    package static let catchUpScanPerIterationMax = 100_000
    /// Watchers on this node, over all streams.
    package static let watchersMax = 100_000
    /// etcd's default progress-notify interval.
    package static let progressInterval: Duration = .seconds(600)

    package let fault: WatchFault?
    private var streams: [ObjectIdentifier: WatchStream] = [:]
    package private(set) var watcherCount = 0
    /// Watchers replaying history, in the order they get their turn.
    private var unsynced: [(stream: ObjectIdentifier, id: Int64)] = []
    /// Watchers behind the store, replaying from it (etcd's slow watchers).
    package var unsyncedCount: Int { unsynced.count }
    /// The revision of the last events dispatched: where synced watchers stand.
    private var lastRevision: Int64 = 0

    /// Now, from the service's environment (virtual time in the simulator).
    package let clock: @Sendable () -> ContinuousClock.Instant

    package init(fault: WatchFault? = nil, clock: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now }) {
        self.fault = fault
        self.clock = clock
    }

    package func add(_ stream: WatchStream) { streams[ObjectIdentifier(stream)] = stream }

    package func isRegistered(_ stream: WatchStream) -> Bool { streams[ObjectIdentifier(stream)] != nil }

    package func remove(_ stream: WatchStream) {
        stream.closed = true
        if streams.removeValue(forKey: ObjectIdentifier(stream)) != nil { watcherCount -= stream.watchers.count }
        stream.watchers.removeAll()
    }

    package func closeAll() {
        for stream in streams.values {
            stream.closed = true
            stream.finish()
        }
        streams.removeAll()
        watcherCount = 0
    }

    package func create(_ request: Etcdserverpb_WatchCreateRequest, on stream: WatchStream, store: MVCCStore) {
        let revision = store.revision
        let key = request.key.bytes
        let rangeEnd = request.rangeEnd.bytes
        if request.watchID != 0 && stream.watchers[request.watchID] != nil {
            return stream.send(.refused(reason: "mvcc: duplicate watch ID provided on the WatchStream", revision: revision))
        }
        if !rangeEnd.isEmpty && rangeEnd != [0] && !key.lexicographicallyPrecedes(rangeEnd) {
            return stream.send(.refused(reason: "mvcc: watcher range is empty", revision: revision))
        }
        if stream.watchers.count >= WatchStream.watchersMax {
            return stream.send(.refused(reason: "synod: too many watchers on this stream (at most \(WatchStream.watchersMax)); open another stream", revision: revision))
        }
        if watcherCount >= Self.watchersMax {
            return stream.send(.refused(reason: "synod: too many watchers on this member (at most \(Self.watchersMax))", revision: revision))
        }
        var id = request.watchID
        if id == 0 {
            while stream.watchers[stream.nextWatchID] != nil { stream.nextWatchID += 1 }
            id = stream.nextWatchID
            stream.nextWatchID += 1
        }
        stream.send(.created(watchID: id, revision: revision))
        let start = request.startRevision <= 0 ? revision + 1 : request.startRevision
        if start < store.compactedRevision {
            // etcd: a watch from a compacted revision is created, then canceled with the compact
            // revision, so the client knows to read the current state and watch again.
            return stream.send(.canceled(watchID: id, revision: revision, compactRevision: store.compactedRevision))
        }
        let synced = start > revision
        stream.watchers[id] = Watcher(
            id: id, key: key, rangeEnd: rangeEnd,
            skipPuts: request.filters.contains(.noput), skipDeletes: request.filters.contains(.nodelete),
            withPrevious: request.prevKv, progressNotify: request.progressNotify, fragment: request.fragment,
            nextRevision: synced && fault == .early ? revision + 1 : start, synced: synced, lastSent: clock()
        )
        watcherCount += 1
        if !synced { unsynced.append((ObjectIdentifier(stream), id)) }
    }

    package func cancel(_ watchID: Int64, on stream: WatchStream, revision: Int64) {
        guard stream.watchers.removeValue(forKey: watchID) != nil else { return }
        watcherCount -= 1
        stream.send(.canceled(watchID: watchID, revision: revision))
    }

    /// A client's progress request: the current revision, once every watcher on the stream has
    /// caught up (etcd 3.5 answers only then, with watch id -1, so the revision is a safe bookmark).
    package func requestProgress(on stream: WatchStream, revision: Int64) {
        stream.progressRequested = true
        answerProgressRequest(on: stream, revision: revision)
    }

    private func answerProgressRequest(on stream: WatchStream, revision: Int64) {
        guard stream.progressRequested else { return }
        if fault != .progressAhead {
            guard stream.watchers.values.allSatisfy(\.synced) else { return }
        }
        stream.progressRequested = false
        stream.send(.progress(watchID: -1, revision: progressRevision(revision)))
    }

    private func progressRevision(_ revision: Int64) -> Int64 {
        fault == .progressAhead ? revision + WatchFault.progressAheadRevisions : revision
    }

    /// Fans one applied command's events out to the synced watchers that want them. A watcher
    /// whose stream is full stops here and replays from this revision once the client has read.
    package func dispatch(_ events: [Event], revision: Int64) {
        lastRevision = revision
        guard !events.isEmpty, watcherCount > 0 else { return }
        let now = clock()
        for (streamKey, stream) in streams {
            // Changes to watchers are made after the loop over them: writing the dictionary while
            // iterating it would copy it whole.
            var fellBehind: [Int64] = []
            var notified: [Int64] = []
            for (id, watcher) in stream.watchers where watcher.synced && revision >= watcher.nextRevision {
                let wanted = events.filter(watcher.wants)
                guard !wanted.isEmpty else { continue }
                guard stream.hasRoom else {
                    fellBehind.append(id)
                    continue
                }
                deliver(.events(watchID: id, revision: revision, events: wanted, withPrevious: watcher.withPrevious, fragment: watcher.fragment), on: stream)
                // Only progress notifications read `lastSent`; other watchers skip the write.
                if watcher.progressNotify { notified.append(id) }
            }
            for id in fellBehind {
                stream.watchers[id]!.synced = false
                stream.watchers[id]!.nextRevision = revision
                unsynced.append((streamKey, id))
            }
            for id in notified { stream.watchers[id]!.lastSent = now }
        }
    }

    /// Replays history to watchers behind the store, a bounded amount per call, in turn.
    package func catchUp(store: MVCCStore) {
        guard !unsynced.isEmpty else { return }
        var budget = Self.catchUpEventsPerIterationMax
        var scanBudget = Self.catchUpScanPerIterationMax
        var waiting: [(stream: ObjectIdentifier, id: Int64)] = []
        var replayed: [(stream: ObjectIdentifier, id: Int64)] = []
        for entry in unsynced {
            guard let stream = streams[entry.stream], var watcher = stream.watchers[entry.id], !watcher.synced else { continue }
            guard budget > 0, scanBudget > 0, stream.hasRoom else {
                waiting.append(entry)
                continue
            }
            let scanMax = min(Self.catchUpScanPerWatcherMax, scanBudget)
            scanBudget -= scanMax
            let batch: (events: [Event], more: Bool, nextRevision: Int64)
            do throws(MVCCError) {
                batch = try store.events(
                    key: watcher.key, rangeEnd: watcher.rangeEnd, from: watcher.nextRevision,
                    limit: min(Self.catchUpEventsPerWatcherMax, budget),
                    bytesMax: max(1, WatchStream.pendingBytesMax - stream.queuedBytes), scanMax: scanMax)
            } catch {
                stream.watchers.removeValue(forKey: entry.id)
                watcherCount -= 1
                let compactRevision: Int64
                if case .compacted(let revision) = error { compactRevision = revision } else { compactRevision = store.compactedRevision }
                stream.send(.canceled(watchID: entry.id, revision: store.revision, compactRevision: compactRevision))
                continue
            }
            budget -= batch.events.count
            // `events` returns whole revisions, so resuming where it stopped splits nothing.
            watcher.nextRevision = max(watcher.nextRevision, batch.nextRevision)
            if !batch.more {
                watcher.synced = true
                watcher.nextRevision = max(watcher.nextRevision, store.revision + 1)
            }
            let wanted = batch.events.filter(watcher.wants)
            if !wanted.isEmpty {
                deliver(.events(watchID: entry.id, revision: store.revision, events: wanted, withPrevious: watcher.withPrevious, fragment: watcher.fragment), on: stream)
                watcher.lastSent = clock()
            }
            stream.watchers[entry.id] = watcher
            if watcher.synced {
                answerProgressRequest(on: stream, revision: store.revision)
            } else {
                replayed.append(entry)
            }
        }
        unsynced = waiting + replayed
    }

    /// Progress notifications for watchers that asked for them and heard nothing for a while.
    package func sendProgress(now: ContinuousClock.Instant, revision: Int64) {
        for stream in streams.values where stream.hasRoom {
            let due = stream.watchers.values.filter { $0.progressNotify && $0.synced && now - $0.lastSent >= Self.progressInterval }.map(\.id)
            for id in due {
                stream.send(.progress(watchID: id, revision: progressRevision(revision)))
                stream.watchers[id]!.lastSent = now
            }
        }
    }

    /// The store was replaced by a snapshot: every synced watcher replays from where it was.
    package func storeReplaced() {
        for (streamKey, stream) in streams {
            let synced = stream.watchers.values.filter(\.synced).map(\.id)
            for id in synced {
                stream.watchers[id]!.synced = false
                stream.watchers[id]!.nextRevision = max(stream.watchers[id]!.nextRevision, lastRevision + 1)
                unsynced.append((streamKey, id))
            }
        }
    }

    /// Sends an events reply, through the configured `WatchFault` if any.
    private func deliver(_ reply: WatchReply, on stream: WatchStream) {
        guard let fault, case .events(let id, let revision, let events, let withPrevious, let fragment) = reply else {
            return stream.send(reply)
        }
        stream.faultCounter += 1
        let hit = stream.faultCounter % WatchFault.period == 0
        switch fault {
        case .duplicate where hit:
            stream.send(reply)
            stream.send(reply)
        case .drop where hit:
            break
        case .split where hit && events.count >= 2:
            let half = events.count / 2
            stream.send(.events(watchID: id, revision: revision, events: Array(events[..<half]), withPrevious: withPrevious, fragment: fragment))
            stream.send(.events(watchID: id, revision: revision, events: Array(events[half...]), withPrevious: withPrevious, fragment: fragment))
        case .reorder:
            if let held = stream.heldForReorder.removeValue(forKey: id) {
                stream.send(reply)
                stream.send(held)
            } else if hit {
                stream.heldForReorder[id] = reply
            } else {
                stream.send(reply)
            }
        default:
            stream.send(reply)
        }
    }
}
