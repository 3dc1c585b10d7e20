import MVCC
import Testing

/// The B-tree behind the key index, against a sorted array as reference.
@Suite struct OrderedMapTests {
    func randomKey(_ random: inout SplitMix64) -> [UInt8] {
        (0..<random.int(in: 1...12)).map { _ in UInt8(random.int(in: 0...5)) + (random.chance(50) ? 0 : 0x61) }
    }

    @Test(arguments: [1 as UInt64, 2, 3])
    func randomInsertsAndUpdatesMatchASortedReference(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var map = OrderedMap<Int>()
        var reference: [[UInt8]: Int] = [:]
        for step in 0..<20_000 {
            let key = randomKey(&random)
            map.withValue(forKey: key, insertingIfMissing: { 0 }) { $0 += step }
            reference[key, default: 0] += step
        }
        #expect(map.structuralViolations() == [])
        #expect(map.count == reference.count)
        var visited: [([UInt8], Int)] = []
        map.forEach { key, value in visited.append((key, value)) }
        let expected = reference.sorted { ByteOrder.precedes($0.key, $1.key) }
        #expect(visited.map(\.0) == expected.map(\.key))
        #expect(visited.map(\.1) == expected.map(\.value))
        for _ in 0..<2_000 {
            let key = randomKey(&random)
            #expect(map.value(forKey: key) == reference[key])
        }
    }

    @Test func scanningFromALowerBoundStartsAtTheFirstKeyAtOrAfterIt() {
        var map = OrderedMap<Int>()
        for index in stride(from: 0, to: 2_000, by: 2) { map.appendInOrder(Self.key(index), index) }
        for lowerBound in [0, 1, 2, 999, 1_000, 1_998, 1_999, 5_000] {
            var first: Int?
            map.forEach(from: Self.key(lowerBound)) { _, value in
                first = value
                return false
            }
            let expected = lowerBound >= 1_999 ? nil : (lowerBound + 1) / 2 * 2
            #expect(first == expected, "lower bound \(lowerBound)")
        }
        var count = 0
        map.forEach(from: Self.key(1_001)) { _, _ in
            count += 1
            return true
        }
        #expect(count == 499)
    }

    @Test func aCopyIsUnaffectedByWritesToTheOriginal() {
        var original = OrderedMap<Int>()
        for index in 0..<5_000 { original.appendInOrder(Self.key(index), index) }
        let copy = original
        for index in 0..<5_000 where index % 3 == 0 {
            original.withValue(forKey: Self.key(index), insertingIfMissing: { -1 }) { $0 = -index }
        }
        original.withValue(forKey: bytes("new"), insertingIfMissing: { 7 }) { _ in }
        #expect(copy.count == 5_000)
        #expect(copy.value(forKey: Self.key(3)) == 3)
        #expect(original.value(forKey: Self.key(3)) == -3)
        #expect(copy.value(forKey: bytes("new")) == nil)
        #expect(copy.structuralViolations() == [])
        #expect(original.structuralViolations() == [])
    }

    @Test func retainAndUpdateDropsAndRewritesValues() {
        var map = OrderedMap<Int>()
        for index in 0..<1_000 { map.appendInOrder(Self.key(index), index) }
        map.retainAndUpdate { _, value in
            value *= 10
            return value % 20 == 0
        }
        #expect(map.count == 500)
        #expect(map.value(forKey: Self.key(4)) == 40)
        #expect(map.value(forKey: Self.key(5)) == nil)
        #expect(map.structuralViolations() == [])
    }

    @Test func byteOrderIsLexicographicWithPrefixesFirst() {
        let ordered: [[UInt8]] = [[], [0], [0, 0], [1], [1, 2, 3, 4, 5, 6, 7, 8], [1, 2, 3, 4, 5, 6, 7, 8, 0], [1, 2, 3, 4, 5, 6, 7, 9], [255]]
        for (leftIndex, left) in ordered.enumerated() {
            for (rightIndex, right) in ordered.enumerated() {
                let expected = leftIndex == rightIndex ? 0 : (leftIndex < rightIndex ? -1 : 1)
                #expect(ByteOrder.compare(left, right) == expected, "\(left) vs \(right)")
            }
        }
        var random = SplitMix64(seed: 9)
        for _ in 0..<5_000 {
            let left = randomKey(&random)
            let right = randomKey(&random)
            #expect((ByteOrder.compare(left, right) < 0) == left.lexicographicallyPrecedes(right))
        }
    }

    /// Zero-padded decimal keys, so byte order is numeric order.
    static func key(_ index: Int) -> [UInt8] {
        let digits = String(index)
        return bytes(String(repeating: "0", count: 6 - digits.count) + digits)
    }
}
