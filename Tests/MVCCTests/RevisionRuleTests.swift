import MVCC
import Testing

/// Revisions and versions (etcd `mvcc/kvstore_txn.go`: `storeTxnWrite.put`, `delete`, `End`).
@Suite struct RevisionRuleTests {
    @Test func freshStoreIsAtRevisionOne() {
        let store = MVCCStore()
        #expect(store.revision == 1)
        #expect(store.compactedRevision == 0)
        #expect(store.keyCount == 0)
    }

    @Test func everyWritingCommandAdvancesTheRevisionByExactlyOne() {
        var store = MVCCStore()
        store.put("a", "1")
        #expect(store.revision == 2)
        store.delete("a")
        #expect(store.revision == 3)
        let threeWrites = TxnRequest(success: [
            .put(PutRequest(key: bytes("x"), value: bytes("1"))),
            .put(PutRequest(key: bytes("y"), value: bytes("2"))),
            .deleteRange(DeleteRangeRequest(key: bytes("z"))),
        ])
        store.put("z", "0")
        store.mustApply(.txn(threeWrites))
        #expect(store.revision == 5)
        for key in ["x", "y"] { #expect(store.get(key)?.modRevision == 5) }
    }

    @Test func failedCommandsAndReadOnlyTxnsLeaveTheRevision() {
        var store = MVCCStore()
        store.put("a", "1")
        #expect(store.applyError(.put(PutRequest(key: bytes("b"), value: bytes("v"), lease: 9))) == .leaseNotFound(9))
        #expect(store.applyError(.put(PutRequest(key: bytes("b"), ignoreValue: true))) == .keyNotFound)
        store.mustApply(.txn(TxnRequest(success: [.range(RangeRequest(key: bytes("a")))])))
        store.mustApply(.deleteRange(DeleteRangeRequest(key: bytes("missing"))))
        store.mustApply(.leaseGrant(id: 1, ttlSeconds: 10))
        store.mustApply(.compact(revision: 2))
        #expect(store.revision == 2)
        #expect(store.lastAppliedEvents.isEmpty)
    }

    @Test func putOnALiveKeyIncrementsVersionAndKeepsCreateRevision() {
        var store = MVCCStore()
        store.put("a", "1")
        store.put("a", "2")
        store.put("a", "3")
        #expect(store.get("a") == KeyValue(key: bytes("a"), createRevision: 2, modRevision: 4, version: 3, value: bytes("3")))
    }

    @Test func putOnAMissingOrDeletedKeyStartsANewGeneration() {
        var store = MVCCStore()
        store.put("a", "1")
        store.put("a", "2")
        store.delete("a")
        #expect(store.get("a") == nil)
        store.put("a", "again")
        #expect(store.get("a") == KeyValue(key: bytes("a"), createRevision: 5, modRevision: 5, version: 1, value: bytes("again")))
        #expect(store.get("a", revision: 3)?.version == 2)
        #expect(store.get("a", revision: 4) == nil)
    }

    @Test func deleteEventCarriesOnlyTheKeyAndTheDeletingRevision() {
        var store = MVCCStore()
        store.mustApply(.leaseGrant(id: 7, ttlSeconds: 60))
        store.put("a", "1", lease: 7)
        store.delete("a")
        let previous = KeyValue(key: bytes("a"), createRevision: 2, modRevision: 2, version: 1, value: bytes("1"), lease: 7)
        #expect(store.lastAppliedEvents == [Event(kind: .delete, kv: KeyValue(key: bytes("a"), modRevision: 3), previous: previous)])
    }

    @Test func putEventCarriesTheNewVersionAndThePreviousOne() {
        var store = MVCCStore()
        store.put("a", "1")
        #expect(store.lastAppliedEvents == [Event(kind: .put, kv: store.get("a")!, previous: nil)])
        let first = store.get("a")
        store.put("a", "2")
        #expect(store.lastAppliedEvents == [Event(kind: .put, kv: store.get("a")!, previous: first)])
    }
}
