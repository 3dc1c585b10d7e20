import MVCC
import Testing

/// `MVCCStore` is a value even though its key index shares B-tree nodes between copies.
@Suite struct ValueSemanticsTests {
    @Test func aCopyIsUnaffectedByEverythingAppliedToTheOriginal() {
        var generator = RandomCommands(seed: 51)
        var original = MVCCStore()
        for index in 0..<3_000 { original.put("key-\(index)", "v") }
        for _ in 0..<300 { _ = original.apply(generator.command(current: original.revision)) }
        let copy = original
        let frozen = copy.snapshot()
        let reads = (0..<3_000).map { copy.get("key-\($0)") }
        original.mustApply(.leaseGrant(id: 99, ttlSeconds: 5))
        for index in stride(from: 0, to: 3_000, by: 7) { original.put("key-\(index)", "changed", lease: 99) }
        original.delete("key-1", rangeEnd: bytes("key-2"))
        original.mustApply(.compact(revision: original.revision - 10))
        original.mustApply(.leaseRevoke(id: 99))
        #expect(copy.snapshot() == frozen)
        #expect(copy.keyIndex.structuralViolations() == [])
        #expect(original.keyIndex.structuralViolations() == [])
        #expect((0..<3_000).map { copy.get("key-\($0)") } == reads)
        #expect(original.get("key-0") == nil)
    }
}
