import MVCC
import Testing

/// Deletes (etcd `etcdserver/apply.go` `applierV3backend.DeleteRange`, `mvcc/kvstore_txn.go`
/// `deleteRange` and `storeTxnWrite.DeleteRange`).
@Suite struct DeleteRangeRuleTests {
    @Test func deletesEveryLiveKeyInTheRangeAtOneRevision() {
        var store = MVCCStore()
        for key in ["a", "b", "c", "d"] { store.put(key, "v") }
        store.delete("b")
        let outcome = store.mustApply(.deleteRange(DeleteRangeRequest(key: bytes("a"), rangeEnd: bytes("d"))))
        #expect(outcome == .deleteRange(DeleteRangeResult(deleted: 2, previous: [])))
        #expect(store.revision == 7)
        #expect(store.keys(RangeRequest(key: bytes("a"), rangeEnd: toEnd)) == ["d"])
        #expect(store.lastAppliedEvents.map(\.kv) == [KeyValue(key: bytes("a"), modRevision: 7), KeyValue(key: bytes("c"), modRevision: 7)])
    }

    @Test func previousKVReturnsTheDeletedVersionsInKeyOrder() {
        var store = MVCCStore()
        store.put("b", "2")
        store.put("a", "1")
        let previous = [store.get("a")!, store.get("b")!]
        let outcome = store.mustApply(.deleteRange(DeleteRangeRequest(key: bytes("a"), rangeEnd: toEnd, previousKV: true)))
        #expect(outcome == .deleteRange(DeleteRangeResult(deleted: 2, previous: previous)))
    }

    @Test func deletingNothingDoesNotAdvanceTheRevision() {
        var store = MVCCStore()
        store.put("a", "1")
        let outcome = store.mustApply(.deleteRange(DeleteRangeRequest(key: bytes("b"), rangeEnd: toEnd)))
        #expect(outcome == .deleteRange(DeleteRangeResult(deleted: 0, previous: [])))
        #expect(store.revision == 2)
        #expect(store.lastAppliedEvents.isEmpty)
    }

    @Test func emptyKeyIsRejected() {
        var store = MVCCStore()
        #expect(store.applyError(.deleteRange(DeleteRangeRequest(key: [], rangeEnd: toEnd))) == .emptyKey)
    }

    @Test func deletingDetachesTheKeyFromItsLease() {
        var store = MVCCStore()
        store.mustApply(.leaseGrant(id: 1, ttlSeconds: 30))
        store.put("a", "1", lease: 1)
        store.delete("a")
        #expect(store.lease(1)?.keys == [])
        store.put("a", "2")
        store.mustApply(.leaseRevoke(id: 1))
        #expect(store.get("a")?.value == bytes("2"))
    }
}
