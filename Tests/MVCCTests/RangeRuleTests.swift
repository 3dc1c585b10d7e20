import MVCC
import Testing

/// Range reads (etcd `etcdserver/apply.go` `applierV3backend.Range`, `mvcc/kvstore_txn.go`
/// `rangeKeys`, `mvcc/index.go` `Revisions`).
@Suite struct RangeRuleTests {
    /// Keys a..e, written in order at revisions 2...6, values "5" down to "1".
    func fiveKeys() -> MVCCStore {
        var store = MVCCStore()
        for (offset, key) in ["a", "b", "c", "d", "e"].enumerated() { store.put(key, String(5 - offset)) }
        return store
    }

    @Test func rangeEndEmptyReadsOneKeyZeroReadsFromKeyOtherwiseHalfOpen() {
        let store = fiveKeys()
        #expect(store.keys(RangeRequest(key: bytes("b"))) == ["b"])
        #expect(store.keys(RangeRequest(key: bytes("bb"))) == [])
        #expect(store.keys(RangeRequest(key: bytes("c"), rangeEnd: toEnd)) == ["c", "d", "e"])
        #expect(store.keys(RangeRequest(key: [0], rangeEnd: toEnd)) == ["a", "b", "c", "d", "e"])
        #expect(store.keys(RangeRequest(key: bytes("b"), rangeEnd: bytes("d"))) == ["b", "c"])
        #expect(store.keys(RangeRequest(key: bytes("d"), rangeEnd: bytes("b"))) == [])
    }

    @Test func emptyKeyIsRejected() {
        let store = fiveKeys()
        #expect(thrownError { try store.range(RangeRequest(key: [], rangeEnd: toEnd)) } == .emptyKey)
    }

    @Test func revisionAfterTheCurrentOneIsAFutureRevision() {
        let store = fiveKeys()
        #expect(thrownError { try store.range(RangeRequest(key: bytes("a"), revision: 7)) } == .futureRevision)
        #expect((try? store.range(RangeRequest(key: bytes("a"), revision: 6)))?.count == 1)
    }

    @Test func revisionBelowTheCompactedOneIsCompactedButTheCompactedOneIsReadable() {
        var store = fiveKeys()
        store.mustApply(.compact(revision: 4))
        #expect(
            thrownError { try store.range(RangeRequest(key: bytes("a"), rangeEnd: toEnd, revision: 3)) }
                == .compacted(compactRevision: 4))
        #expect(store.keys(RangeRequest(key: bytes("a"), rangeEnd: toEnd, revision: 4)) == ["a", "b", "c"])
        #expect(store.keys(RangeRequest(key: bytes("a"), rangeEnd: toEnd, revision: -3)).count == 5)
    }

    @Test func pastRevisionsShowPastVersions() {
        var store = fiveKeys()
        store.put("a", "new")
        store.delete("b")
        #expect(store.get("a", revision: 6)?.value == bytes("5"))
        #expect(store.get("b", revision: 7)?.value == bytes("4"))
        #expect(store.get("b") == nil)
        #expect(store.keys(RangeRequest(key: bytes("a"), rangeEnd: toEnd, revision: 3)) == ["a", "b"])
    }

    @Test func countIsTakenBeforeTheLimitAndTheRevisionFilters() throws {
        let store = fiveKeys()
        let limited = try store.range(RangeRequest(key: bytes("a"), rangeEnd: toEnd, limit: 2))
        #expect(limited.count == 5)
        #expect(limited.kvs.map(\.key) == [bytes("a"), bytes("b")])
        #expect(limited.more)
        let filtered = try store.range(RangeRequest(key: bytes("a"), rangeEnd: toEnd, minModRevision: 4))
        #expect(filtered.count == 5)
        #expect(filtered.kvs.count == 3)
        #expect(!filtered.more)
    }

    @Test func limitAppliesAfterSortingAndMoreSaysTheLimitCut() throws {
        let store = fiveKeys()
        let byValue = try store.range(
            RangeRequest(key: bytes("a"), rangeEnd: toEnd, limit: 2, sortOrder: .ascend, sortTarget: .value))
        #expect(byValue.kvs.map(\.value) == [bytes("1"), bytes("2")])
        #expect(byValue.more)
        let exact = try store.range(RangeRequest(key: bytes("a"), rangeEnd: toEnd, limit: 5))
        #expect(!exact.more)
    }

    @Test func sortOrderNoneWithTargetKeyIsKeyOrder() {
        let store = fiveKeys()
        #expect(store.keys(RangeRequest(key: bytes("a"), rangeEnd: toEnd, sortOrder: .none, sortTarget: .key)) == ["a", "b", "c", "d", "e"])
        #expect(store.keys(RangeRequest(key: bytes("a"), rangeEnd: toEnd, sortOrder: .descend, sortTarget: .key)) == ["e", "d", "c", "b", "a"])
    }

    @Test func sortOrderNoneWithAnotherTargetSortsAscendingByThatTarget() {
        let store = fiveKeys()
        #expect(store.keys(RangeRequest(key: bytes("a"), rangeEnd: toEnd, sortOrder: .none, sortTarget: .value)) == ["e", "d", "c", "b", "a"])
        #expect(store.keys(RangeRequest(key: bytes("a"), rangeEnd: toEnd, sortOrder: .descend, sortTarget: .mod)) == ["e", "d", "c", "b", "a"])
        #expect(store.keys(RangeRequest(key: bytes("a"), rangeEnd: toEnd, sortOrder: .ascend, sortTarget: .create)) == ["a", "b", "c", "d", "e"])
    }

    /// With order NONE etcd fetches only limit+1 keys (in key order) and then sorts those.
    @Test func sortOrderNoneWithALimitSortsOnlyTheFirstLimitPlusOneKeys() {
        let store = fiveKeys()
        #expect(store.keys(RangeRequest(key: bytes("a"), rangeEnd: toEnd, limit: 2, sortOrder: .none, sortTarget: .value)) == ["c", "b"])
        #expect(store.keys(RangeRequest(key: bytes("a"), rangeEnd: toEnd, limit: 2, sortOrder: .ascend, sortTarget: .value)) == ["e", "d"])
    }

    @Test func equalSortTargetsStayInKeyOrderInBothDirections() {
        var store = MVCCStore()
        for key in ["c", "a", "b"] { store.put(key, "same") }
        store.put("d", "other")
        #expect(store.keys(RangeRequest(key: bytes("a"), rangeEnd: toEnd, sortOrder: .ascend, sortTarget: .version)) == ["a", "b", "c", "d"])
        #expect(store.keys(RangeRequest(key: bytes("a"), rangeEnd: toEnd, sortOrder: .descend, sortTarget: .value)) == ["a", "b", "c", "d"])
    }

    @Test func keysOnlyDropsValues() throws {
        let store = fiveKeys()
        let result = try store.range(RangeRequest(key: bytes("a"), rangeEnd: bytes("c"), keysOnly: true))
        #expect(result.kvs.map(\.value) == [[], []])
        #expect(result.kvs.map(\.version) == [1, 1])
    }

    @Test func countOnlyReturnsTheCountAndNoKeys() throws {
        let store = fiveKeys()
        let result = try store.range(RangeRequest(key: bytes("b"), rangeEnd: toEnd, limit: 1, countOnly: true))
        #expect(result == RangeResult(kvs: [], more: false, count: 4))
    }

    @Test func minAndMaxRevisionFiltersBoundModAndCreateRevisions() {
        var store = fiveKeys()
        store.put("a", "again")  // a: create 2, mod 7
        let all = RangeRequest(key: bytes("a"), rangeEnd: toEnd)
        var request = all
        request.minModRevision = 5
        #expect(store.keys(request) == ["a", "d", "e"])
        request = all
        request.maxModRevision = 4
        #expect(store.keys(request) == ["b", "c"])
        request = all
        request.minCreateRevision = 5
        #expect(store.keys(request) == ["d", "e"])
        request = all
        request.maxCreateRevision = 3
        #expect(store.keys(request) == ["a", "b"])
    }
}
