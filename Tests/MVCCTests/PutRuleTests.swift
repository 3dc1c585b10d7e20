import MVCC
import Testing

/// Puts (etcd `etcdserver/apply.go` `applierV3backend.Put`, `etcdserver/api/v3rpc/key.go`
/// `checkPutRequest`, `mvcc/kvstore_txn.go` `put` for lease attach and detach).
@Suite struct PutRuleTests {
    @Test func leaseMustExistUnlessZero() {
        var store = MVCCStore()
        #expect(store.applyError(.put(PutRequest(key: bytes("a"), value: bytes("1"), lease: 5))) == .leaseNotFound(5))
        store.mustApply(.leaseGrant(id: 5, ttlSeconds: 30))
        store.mustApply(.put(PutRequest(key: bytes("a"), value: bytes("1"), lease: 5)))
        #expect(store.get("a")?.lease == 5)
        #expect(store.lease(5)?.keys == [bytes("a")])
    }

    @Test func emptyKeyIsRejected() {
        var store = MVCCStore()
        #expect(store.applyError(.put(PutRequest(key: [], value: bytes("1")))) == .emptyKey)
        #expect(throws: MVCCError.emptyKey) { try store.validate(.put(PutRequest(key: []))) }
    }

    @Test func ignoreValueAndIgnoreLeaseNeedTheKeyToExist() {
        var store = MVCCStore()
        #expect(store.applyError(.put(PutRequest(key: bytes("a"), ignoreValue: true))) == .keyNotFound)
        #expect(store.applyError(.put(PutRequest(key: bytes("a"), ignoreLease: true))) == .keyNotFound)
        store.put("a", "1")
        store.delete("a")
        #expect(store.applyError(.put(PutRequest(key: bytes("a"), ignoreValue: true))) == .keyNotFound)
    }

    @Test func ignoreValueForbidsAValueAndIgnoreLeaseForbidsALease() {
        let store = MVCCStore()
        #expect(throws: MVCCError.valueProvided) {
            try store.validate(.put(PutRequest(key: bytes("a"), value: bytes("x"), ignoreValue: true)))
        }
        #expect(throws: MVCCError.leaseProvided) {
            try store.validate(.put(PutRequest(key: bytes("a"), lease: 3, ignoreLease: true)))
        }
    }

    @Test func ignoreValueKeepsTheValueAndIgnoreLeaseKeepsTheLease() {
        var store = MVCCStore()
        store.mustApply(.leaseGrant(id: 1, ttlSeconds: 30))
        store.mustApply(.leaseGrant(id: 2, ttlSeconds: 30))
        store.put("a", "kept", lease: 1)
        store.mustApply(.put(PutRequest(key: bytes("a"), lease: 2, ignoreValue: true)))
        #expect(store.get("a")?.value == bytes("kept"))
        #expect(store.get("a")?.lease == 2)
        store.mustApply(.put(PutRequest(key: bytes("a"), value: bytes("new"), ignoreLease: true)))
        #expect(store.get("a")?.value == bytes("new"))
        #expect(store.get("a")?.lease == 2)
        #expect(store.get("a")?.version == 3)
    }

    @Test func previousKVReturnsTheReplacedVersionOnlyWhenAsked() {
        var store = MVCCStore()
        #expect(store.mustApply(.put(PutRequest(key: bytes("a"), value: bytes("1"), previousKV: true))) == .put(PutResult(previous: nil)))
        let first = store.get("a")
        #expect(store.mustApply(.put(PutRequest(key: bytes("a"), value: bytes("2"), previousKV: true))) == .put(PutResult(previous: first)))
        #expect(store.mustApply(.put(PutRequest(key: bytes("a"), value: bytes("3")))) == .put(PutResult(previous: nil)))
    }

    @Test func attachingToALeaseDetachesTheKeyFromItsOldLease() {
        var store = MVCCStore()
        store.mustApply(.leaseGrant(id: 1, ttlSeconds: 30))
        store.mustApply(.leaseGrant(id: 2, ttlSeconds: 30))
        store.put("a", "1", lease: 1)
        store.put("b", "1", lease: 1)
        store.put("a", "2", lease: 2)
        #expect(store.lease(1)?.keys == [bytes("b")])
        #expect(store.lease(2)?.keys == [bytes("a")])
        store.put("b", "2")
        #expect(store.lease(1)?.keys == [])
        store.mustApply(.leaseRevoke(id: 1))
        #expect(store.get("b")?.value == bytes("2"))
    }

    @Test func keyCountAndSizeFollowLiveKeys() {
        var store = MVCCStore()
        store.put("a", "1")
        store.put("b", "1")
        store.put("a", "2")
        #expect(store.keyCount == 2)
        let size = store.sizeBytes
        #expect(size > 0)
        store.delete("a")
        #expect(store.keyCount == 1)
        #expect(store.sizeBytes > size)
    }
}
