import EtcdAPI
import Foundation
import MVCC
import Testing
import EtcdServer

/// Watches on one node: start revisions, history replay, duplicate ids, compaction, and the byte
/// bound on a slow client.
@Suite struct WatchHubTests {
    /// A hub, one stream on it, and the store it watches.
    final class Fixture {
        var store = MVCCStore()
        let hub: WatchHub
        let stream: WatchStream
        let replies: AsyncStream<WatchStream.Queued>

        init(fault: WatchFault? = nil) {
            hub = WatchHub(fault: fault)
            let (replies, continuation) = AsyncStream<WatchStream.Queued>.makeStream()
            self.replies = replies
            stream = WatchStream(continuation: continuation)
            hub.add(stream)
        }

        func put(_ key: String, _ value: String = "v") {
            _ = store.apply(.put(PutRequest(key: Array(key.utf8), value: Array(value.utf8))))
            hub.dispatch(store.lastAppliedEvents, revision: store.revision)
        }

        func deletePrefix(_ prefix: String) {
            var end = Array(prefix.utf8)
            end[end.count - 1] += 1
            _ = store.apply(.deleteRange(DeleteRangeRequest(key: Array(prefix.utf8), rangeEnd: end)))
            hub.dispatch(store.lastAppliedEvents, revision: store.revision)
        }

        func watch(_ key: String, rangeEnd: String = "", from revision: Int64 = 0, id: Int64 = 0) {
            var request = Etcdserverpb_WatchCreateRequest()
            request.key = Data(key.utf8)
            request.rangeEnd = Data(rangeEnd.utf8)
            request.startRevision = revision
            request.watchID = id
            hub.create(request, on: stream, store: store)
        }

        /// Replays until every watcher has caught up (bounded).
        func catchUp() {
            for _ in 0..<10_000 { hub.catchUp(store: store) }
        }

        /// Everything queued so far, as the client would receive it.
        func received() async -> [Etcdserverpb_WatchResponse] {
            stream.finish()
            var collected: [Etcdserverpb_WatchResponse] = []
            for await queued in replies {
                collected += queued.reply.responses(header: Etcdserverpb_ResponseHeader(), fragmentBytesMax: 1 << 20)
            }
            return collected
        }
    }

    static func values(_ responses: [Etcdserverpb_WatchResponse]) -> [String] {
        responses.flatMap(\.events).map { String(decoding: $0.kv.value, as: UTF8.self) }
    }

    @Test func aWatchFromThePastReplaysHistoryThenLiveEvents() async {
        let fixture = Fixture()
        for index in 0..<5 { fixture.put("k", "old\(index)") }
        fixture.watch("k", from: 3)
        fixture.catchUp()
        fixture.put("k", "new")
        let responses = await fixture.received()
        #expect(responses.first?.created == true)
        #expect(Self.values(responses) == ["old1", "old2", "old3", "old4", "new"])
    }

    /// etcd #20281: a watch from a revision the store has not reached must not get the revisions
    /// in between (clientv3 resumes at lastRevision+1 on a member that may be behind).
    @Test func aWatchFromAFutureRevisionGetsNothingBelowIt() async {
        let fixture = Fixture()
        fixture.put("k", "r2")
        fixture.watch("k", from: 5)
        for revision in 3...6 { fixture.put("k", "r\(revision)") }
        let responses = await fixture.received()
        #expect(Self.values(responses) == ["r5", "r6"])
        #expect(responses.flatMap(\.events).allSatisfy { $0.kv.modRevision >= 5 })
    }

    /// The broken variant the watch checkers must catch: etcd 3.4's behaviour.
    @Test func theEarlyFaultDeliversRevisionsBelowTheStart() async {
        let fixture = Fixture(fault: .early)
        fixture.watch("k", from: 5)
        for revision in 2...5 { fixture.put("k", "r\(revision)") }
        #expect(Self.values(await fixture.received()) == ["r2", "r3", "r4", "r5"])
    }

    /// One revision touching more keys than a replay batch is replayed whole, in one reply.
    @Test func aReplayNeverSplitsOrDropsARevision() async {
        let fixture = Fixture()
        let keyCount = WatchHub.catchUpEventsPerWatcherMax + 500
        for index in 0..<keyCount { fixture.put("p/\(index)") }
        fixture.deletePrefix("p/")
        fixture.put("p/after")
        let deleteRevision = fixture.store.revision - 1
        fixture.watch("p/", rangeEnd: "p0", from: deleteRevision)
        fixture.catchUp()
        let responses = await fixture.received().filter { !$0.events.isEmpty }
        let deletes = responses.filter { $0.events.contains { $0.kv.modRevision == deleteRevision } }
        #expect(deletes.count == 1)
        #expect(deletes.first?.events.filter { $0.type == .delete }.count == keyCount)
        #expect(responses.flatMap(\.events).count == keyCount + 1)
    }

    @Test func aDuplicateWatchIDIsRefusedWithEtcdsError() async {
        let fixture = Fixture()
        fixture.watch("a", id: 7)
        fixture.watch("b", id: 7)
        let responses = await fixture.received()
        #expect(responses.count == 2)
        #expect(responses[0].watchID == 7 && responses[0].created && !responses[0].canceled)
        #expect(responses[1].watchID == -1 && responses[1].created && responses[1].canceled)
        #expect(responses[1].cancelReason == "mvcc: duplicate watch ID provided on the WatchStream")
        #expect(fixture.stream.watchers.count == 1)
    }

    @Test func anEmptyRangeIsRefused() async {
        let fixture = Fixture()
        fixture.watch("b", rangeEnd: "a")
        let responses = await fixture.received()
        #expect(responses.last?.cancelReason == "mvcc: watcher range is empty")
        #expect(fixture.hub.watcherCount == 0)
    }

    /// A watch from before the compacted revision is created, then canceled with the compact
    /// revision, as etcd does.
    @Test func aWatchFromACompactedRevisionIsCanceledWithTheCompactRevision() async {
        let fixture = Fixture()
        for index in 0..<5 { fixture.put("k", "v\(index)") }
        _ = fixture.store.apply(.compact(revision: 4))
        fixture.watch("k", from: 2)
        let responses = await fixture.received()
        #expect(responses.map(\.created) == [true, false])
        #expect(responses.last?.canceled == true)
        #expect(responses.last?.compactRevision == 4)
    }

    /// A client that stops reading holds at most the byte bound (plus one reply) of events; the
    /// rest wait in the store and are replayed, in order and without loss, once it reads again.
    @Test func aClientThatStopsReadingIsBoundedAndLosesNothing() async {
        let fixture = Fixture()
        fixture.watch("k")
        let value = String(repeating: "x", count: 64 << 10)
        let writeCount = WatchStream.pendingBytesMax / (64 << 10) * 2
        for index in 0..<writeCount { fixture.put("k", "\(index) \(value)") }
        #expect(fixture.stream.queuedBytes <= WatchStream.pendingBytesMax + (70 << 10))
        #expect(fixture.stream.watchers.values.first?.synced == false)
        // The client reads everything queued, the replay queues more, and so on until it has
        // caught up (bounded: each round moves at least one reply).
        var collected: [WatchStream.Queued] = []
        var iterator = fixture.replies.makeAsyncIterator()
        for _ in 0..<1_000 where fixture.stream.watchers.values.first?.synced == false {
            while fixture.stream.queuedBytes > 0, let queued = await iterator.next() {
                fixture.stream.written(queued)
                collected.append(queued)
            }
            fixture.hub.catchUp(store: fixture.store)
        }
        #expect(fixture.stream.watchers.values.first?.synced == true)
        fixture.put("k", "last")
        fixture.stream.finish()
        while let queued = await iterator.next() { collected.append(queued) }
        let responses = collected.flatMap { $0.reply.responses(header: Etcdserverpb_ResponseHeader(), fragmentBytesMax: 1 << 20) }
        let revisions = responses.flatMap(\.events).map(\.kv.modRevision)
        #expect(revisions == Array(2...Int64(writeCount + 2)))
    }

    /// A progress request is answered only once every watcher on the stream has caught up, so its
    /// revision is a safe place to resume.
    @Test func aProgressRequestWaitsForTheReplay() async {
        let fixture = Fixture()
        for index in 0..<3 { fixture.put("k", "v\(index)") }
        fixture.watch("k", from: 2)
        fixture.hub.requestProgress(on: fixture.stream, revision: fixture.store.revision)
        fixture.catchUp()
        let responses = await fixture.received()
        let progress = responses.firstIndex { $0.watchID == -1 }
        let lastEvents = responses.lastIndex { !$0.events.isEmpty }
        #expect(progress != nil && lastEvents != nil && progress! > lastEvents!)
        #expect(responses[progress!].header.revision == 4)
    }

    /// A watch that asked for fragments gets a large revision in pieces, all but the last marked.
    @Test func aLargeRevisionIsFragmentedWhenAsked() {
        let events = (0..<100).map { Event(kind: .put, kv: KeyValue(key: Array("k\($0)".utf8), createRevision: 2, modRevision: 2, version: 1, value: [UInt8](repeating: 1, count: 1000))) }
        let reply = WatchReply.events(watchID: 1, revision: 2, events: events, withPrevious: false, fragment: true)
        let pieces = reply.responses(header: Etcdserverpb_ResponseHeader(), fragmentBytesMax: 10_000)
        #expect(pieces.count > 1)
        #expect(pieces.dropLast().allSatisfy(\.fragment) && pieces.last?.fragment == false)
        #expect(pieces.flatMap(\.events).count == 100)
    }
}
