import MVCC
import Testing

/// Leases (etcd `lease/lessor.go` `Grant`, `Revoke`, `MaxLeaseTTL`; `etcdserver/apply.go`).
@Suite struct LeaseRuleTests {
    @Test func aTTLAboveTheMaximumIsTooLarge() {
        var store = MVCCStore()
        #expect(MVCCStore.leaseTTLMaxSeconds == 9_000_000_000)
        #expect(store.applyError(.leaseGrant(id: 1, ttlSeconds: 9_000_000_001)) == .leaseTTLTooLarge)
        store.mustApply(.leaseGrant(id: 1, ttlSeconds: 9_000_000_000))
        #expect(store.lease(1) == Lease(id: 1, ttlSeconds: 9_000_000_000, keys: []))
    }

    @Test func leaseIDZeroIsRefusedAsNotFound() {
        var store = MVCCStore()
        #expect(store.applyError(.leaseGrant(id: 0, ttlSeconds: 5)) == .leaseNotFound(0))
    }

    @Test func grantingAnExistingIDFails() {
        var store = MVCCStore()
        store.mustApply(.leaseGrant(id: 3, ttlSeconds: 5))
        #expect(store.applyError(.leaseGrant(id: 3, ttlSeconds: 50)) == .leaseExists(3))
        #expect(store.lease(3)?.ttlSeconds == 5)
    }

    @Test func grantReturnsTheLease() {
        var store = MVCCStore()
        #expect(store.mustApply(.leaseGrant(id: 9, ttlSeconds: 42)) == .leaseGrant(Lease(id: 9, ttlSeconds: 42)))
    }

    @Test func revokeDeletesEveryAttachedKeyAtOneRevisionInKeyOrder() {
        var store = MVCCStore()
        store.mustApply(.leaseGrant(id: 1, ttlSeconds: 5))
        for key in ["c", "a", "b"] { store.put(key, "v", lease: 1) }
        store.put("free", "v")
        #expect(store.lease(1)?.keys == [bytes("a"), bytes("b"), bytes("c")])
        #expect(store.mustApply(.leaseRevoke(id: 1)) == .leaseRevoke)
        #expect(store.revision == 6)
        #expect(store.lastAppliedEvents.map(\.kind) == [.delete, .delete, .delete])
        #expect(store.lastAppliedEvents.map(\.kv) == ["a", "b", "c"].map { KeyValue(key: bytes($0), modRevision: 6) })
        #expect(store.lastAppliedEvents.map(\.previous?.lease) == [1, 1, 1])
        #expect(store.keys(RangeRequest(key: [0], rangeEnd: toEnd)) == ["free"])
        #expect(store.lease(1) == nil)
    }

    @Test func revokingALeaseWithoutKeysDoesNotAdvanceTheRevision() {
        var store = MVCCStore()
        store.mustApply(.leaseGrant(id: 1, ttlSeconds: 5))
        store.mustApply(.leaseRevoke(id: 1))
        #expect(store.revision == 1)
        #expect(store.leases.isEmpty)
    }

    @Test func revokingAnUnknownLeaseFails() {
        var store = MVCCStore()
        #expect(store.applyError(.leaseRevoke(id: 4)) == .leaseNotFound(4))
    }

    @Test func leasesAreListedByID() {
        var store = MVCCStore()
        for id: Int64 in [30, -2, 7] { store.mustApply(.leaseGrant(id: id, ttlSeconds: id)) }
        #expect(store.leases.map(\.id) == [-2, 7, 30])
    }
}
