import MVCC
import Testing

/// Compaction (etcd `mvcc/kvstore.go` `updateCompactRev`, `mvcc/key_index.go` `compact`/`doCompact`,
/// `mvcc/index.go` `Compact`).
@Suite struct CompactionRuleTests {
    @Test func compactingPastTheCurrentRevisionIsAFutureRevision() {
        var store = MVCCStore()
        store.put("a", "1")
        #expect(store.applyError(.compact(revision: 3)) == .futureRevision)
        #expect(store.compactedRevision == 0)
    }

    @Test func compactingAtOrBelowTheLastCompactionIsCompacted() {
        var store = MVCCStore()
        for value in ["1", "2", "3"] { store.put("a", value) }
        store.mustApply(.compact(revision: 3))
        #expect(store.applyError(.compact(revision: 3)) == .compacted(compactRevision: 3))
        #expect(store.applyError(.compact(revision: 2)) == .compacted(compactRevision: 3))
        store.mustApply(.compact(revision: 4))
        #expect(store.compactedRevision == 4)
    }

    /// etcd's compacted revision starts at -1, so a first compaction at 0 succeeds and a second fails.
    @Test func aFirstCompactionAtZeroSucceedsOnce() {
        var store = MVCCStore()
        store.mustApply(.compact(revision: 0))
        #expect(store.applyError(.compact(revision: 0)) == .compacted(compactRevision: 0))
        #expect(MVCCStore().applying(.compact(revision: -1)).error == .compacted(compactRevision: 0))
    }

    @Test func compactionDoesNotAdvanceTheRevision() {
        var store = MVCCStore()
        store.put("a", "1")
        store.mustApply(.compact(revision: 2))
        #expect(store.revision == 2)
        #expect(store.lastAppliedEvents.isEmpty)
    }

    @Test func readsBelowTheCompactedRevisionFailAndReadsAtOrAboveItAreUnchanged() {
        var store = MVCCStore()
        store.put("a", "1")  // 2
        store.put("b", "1")  // 3
        store.put("a", "2")  // 4
        store.delete("b")  // 5
        store.put("c", "1")  // 6
        let before = (4...6).map { revision in
            try? store.range(RangeRequest(key: bytes("a"), rangeEnd: toEnd, revision: Int64(revision)))
        }
        store.mustApply(.compact(revision: 4))
        #expect(thrownError { try store.range(RangeRequest(key: bytes("a"), revision: 3)) } == .compacted(compactRevision: 4))
        let after = (4...6).map { revision in
            try? store.range(RangeRequest(key: bytes("a"), rangeEnd: toEnd, revision: Int64(revision)))
        }
        #expect(after == before)
    }

    @Test func eachKeyKeepsItsNewestVersionAtOrBelowTheCompactedRevision() {
        var store = MVCCStore()
        store.put("a", "1")  // 2
        store.put("a", "2")  // 3
        store.put("a", "3")  // 4
        store.mustApply(.compact(revision: 3))
        let history = store.keyIndex.value(forKey: bytes("a"))!
        #expect(history.entries.map(\.modRevision) == [3, 4])
        #expect(store.get("a", revision: 3) == KeyValue(key: bytes("a"), createRevision: 2, modRevision: 3, version: 2, value: bytes("2")))
    }

    @Test func aKeyWhoseNewestChangeBelowTheCompactedRevisionIsADeleteDisappears() {
        var store = MVCCStore()
        store.put("a", "1")  // 2
        store.delete("a")  // 3
        store.put("b", "1")  // 4
        let size = store.sizeBytes
        store.mustApply(.compact(revision: 4))
        #expect(store.keyIndex.value(forKey: bytes("a")) == nil)
        #expect(store.keyIndex.count == 1)
        #expect(store.sizeBytes < size)
    }

    /// etcd keeps a tombstone at exactly the compacted revision, so a watch from there sees the delete.
    @Test func aDeleteAtExactlyTheCompactedRevisionIsKept() throws {
        var store = MVCCStore()
        store.put("a", "1")  // 2
        store.delete("a")  // 3
        store.mustApply(.compact(revision: 3))
        #expect(store.keyIndex.value(forKey: bytes("a"))?.entries.map(\.isTombstone) == [true])
        let replay = try store.events(key: bytes("a"), rangeEnd: [], from: 3, limit: 10)
        #expect(replay.events == [Event(kind: .delete, kv: KeyValue(key: bytes("a"), modRevision: 3), previous: nil)])
        store.put("b", "1")  // 4
        store.mustApply(.compact(revision: 4))
        #expect(store.keyIndex.value(forKey: bytes("a")) == nil)
    }
}

extension MVCCStore {
    /// A copy with `command` applied, and its result: handy to test a fresh store in one expression.
    func applying(_ command: Command) -> Result<CommandOutcome, MVCCError> {
        var copy = self
        return copy.apply(command)
    }
}
