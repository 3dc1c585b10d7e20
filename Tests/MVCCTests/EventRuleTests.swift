import MVCC
import Testing

/// Replayed events (etcd `mvcc/watchable_store.go` `syncWatchers`, `mvcc/watcher_group.go`
/// `chooseAll`, `etcdserver/api/v3rpc/watch.go` prev_kv).
@Suite struct EventRuleTests {
    func history() -> MVCCStore {
        var store = MVCCStore()
        store.put("a", "1")  // 2
        store.put("b", "1")  // 3
        store.put("a", "2")  // 4
        store.delete("b")  // 5
        store.mustApply(.txn(TxnRequest(success: [
            .put(PutRequest(key: bytes("c"), value: bytes("1"))), .put(PutRequest(key: bytes("a"), value: bytes("3"))),
        ])))  // 6
        return store
    }

    @Test func eventsComeInRevisionAndChangeOrderWithPreviousFilled() throws {
        let store = history()
        let replay = try store.events(key: bytes("a"), rangeEnd: toEnd, from: 4, limit: 100)
        let a2 = store.get("a", revision: 4)!
        let b1 = store.get("b", revision: 3)!
        #expect(replay.events == [
            Event(kind: .put, kv: a2, previous: store.get("a", revision: 2)),
            Event(kind: .delete, kv: KeyValue(key: bytes("b"), modRevision: 5), previous: b1),
            Event(kind: .put, kv: store.get("c")!, previous: nil),
            Event(kind: .put, kv: store.get("a")!, previous: a2),
        ])
        #expect(!replay.more)
    }

    @Test func lastAppliedEventsAreTheEventsOfThatRevision() throws {
        let store = history()
        #expect(try store.events(key: [0], rangeEnd: toEnd, from: 6, limit: 10).events == store.lastAppliedEvents)
    }

    @Test func aSingleKeyOrARangeSelectsTheKeys() throws {
        let store = history()
        #expect(try store.events(key: bytes("a"), rangeEnd: [], from: 1, limit: 10).events.map(\.kv.modRevision) == [2, 4, 6])
        #expect(try store.events(key: bytes("b"), rangeEnd: bytes("d"), from: 1, limit: 10).events.map(\.kv.key) == [bytes("b"), bytes("b"), bytes("c")])
        #expect(try store.events(key: bytes("z"), rangeEnd: [], from: 1, limit: 10).events.isEmpty)
    }

    @Test func theLimitCutsAndMoreSaysSo() throws {
        let store = history()
        let first = try store.events(key: bytes("a"), rangeEnd: toEnd, from: 2, limit: 2)
        #expect(first.events.map(\.kv.modRevision) == [2, 3])
        #expect(first.more)
        let single = try store.events(key: bytes("a"), rangeEnd: [], from: 2, limit: 3)
        #expect(!single.more)
        #expect(try store.events(key: bytes("a"), rangeEnd: [], from: 2, limit: 2).more)
    }

    @Test func aStartAfterTheCurrentRevisionHasNoEventsYet() throws {
        let store = history()
        #expect(try store.events(key: bytes("a"), rangeEnd: toEnd, from: 7, limit: 10).events.isEmpty)
    }

    /// etcd cancels a watch as compacted when its start is below the compacted revision
    /// (`w.minRev < compactRev`); a start at exactly the compacted revision still replays.
    @Test func aStartBelowTheCompactedRevisionIsCompacted() throws {
        var store = history()
        store.mustApply(.compact(revision: 4))
        #expect(thrownError { try store.events(key: bytes("a"), rangeEnd: toEnd, from: 3, limit: 10) } == .compacted(compactRevision: 4))
        let replay = try store.events(key: bytes("a"), rangeEnd: toEnd, from: 4, limit: 10)
        #expect(replay.events.map(\.kv.modRevision) == [4, 5, 6, 6])
        // The version before revision 4 is compacted, so like etcd's prev_kv read it is left out.
        #expect(replay.events[0].previous == nil)
        #expect(replay.events[1].previous == store.get("b", revision: 4))
    }
}
