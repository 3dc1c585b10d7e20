import EtcdAPI
import Foundation
import MVCC
import Testing
@testable import EtcdServer

/// Watches on one node: history, compaction and the bound on a slow client.
@Suite struct WatchHubTests {
    static func put(_ store: inout MVCCStore, _ key: String, _ value: String) -> [Event] {
        _ = store.apply(.put(PutRequest(key: Array(key.utf8), value: Array(value.utf8))))
        return store.lastAppliedEvents
    }

    static func createRequest(_ key: String, from revision: Int64 = 0) -> Etcdserverpb_WatchCreateRequest {
        var request = Etcdserverpb_WatchCreateRequest()
        request.key = Data(key.utf8)
        request.startRevision = revision
        return request
    }

    /// A client that never reads gets its watchers cancelled with a reason once the bound is
    /// reached, instead of the server queueing without limit.
    static func collect(_ responses: AsyncStream<Etcdserverpb_WatchResponse>) async -> [Etcdserverpb_WatchResponse] {
        var collected: [Etcdserverpb_WatchResponse] = []
        for await response in responses { collected.append(response) }
        return collected
    }

    @Test func aClientThatNeverReadsIsCancelledAtTheBound() async {
        var store = MVCCStore()
        let hub = WatchHub()
        let (responses, continuation) = AsyncStream<Etcdserverpb_WatchResponse>.makeStream()
        let stream = WatchStream(continuation: continuation)
        hub.add(stream)
        hub.create(Self.createRequest("k"), on: stream, store: store, header: Etcdserverpb_ResponseHeader())
        for index in 0..<(WatchStream.unreadResponsesMax + 10) {
            hub.dispatch(Self.put(&store, "k", "v\(index)"), revision: store.revision)
        }
        continuation.finish()
        let received = await Self.collect(responses)
        #expect(received.count <= WatchStream.unreadResponsesMax + 2)
        let cancelled = received.last
        #expect(cancelled?.canceled == true)
        #expect(cancelled?.cancelReason.contains("too slowly") == true)
        #expect(stream.watchers.isEmpty)
    }

    /// A watch from a revision in the past replays history first, then gets live events.
    @Test func aWatchFromThePastReplaysHistoryThenLiveEvents() async {
        var store = MVCCStore()
        for index in 0..<5 { _ = Self.put(&store, "k", "old\(index)") }
        let hub = WatchHub()
        let (responses, continuation) = AsyncStream<Etcdserverpb_WatchResponse>.makeStream()
        let stream = WatchStream(continuation: continuation)
        hub.add(stream)
        hub.create(Self.createRequest("k", from: 3), on: stream, store: store, header: Etcdserverpb_ResponseHeader())
        hub.catchUp(store: store, header: Etcdserverpb_ResponseHeader())
        hub.dispatch(Self.put(&store, "k", "new"), revision: store.revision)
        continuation.finish()
        let box = await Self.collect(responses)
        let values = box.flatMap(\.events).map { String(decoding: $0.kv.value, as: UTF8.self) }
        #expect(box.first?.created == true)
        #expect(values == ["old1", "old2", "old3", "old4", "new"])
    }

    /// A watch from before the compacted revision is created, then cancelled with the compact
    /// revision, as etcd does.
    @Test func aWatchFromACompactedRevisionIsCancelledWithTheCompactRevision() async {
        var store = MVCCStore()
        for index in 0..<5 { _ = Self.put(&store, "k", "v\(index)") }
        _ = store.apply(.compact(revision: 4))
        let hub = WatchHub()
        let (responses, continuation) = AsyncStream<Etcdserverpb_WatchResponse>.makeStream()
        let stream = WatchStream(continuation: continuation)
        hub.add(stream)
        hub.create(Self.createRequest("k", from: 2), on: stream, store: store, header: Etcdserverpb_ResponseHeader())
        continuation.finish()
        let box = await Self.collect(responses)
        #expect(box.map(\.created) == [true, false])
        #expect(box.last?.canceled == true)
        #expect(box.last?.compactRevision == 4)
    }
}

