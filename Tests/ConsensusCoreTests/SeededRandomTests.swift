import ConsensusCore
import Testing

@Suite struct SeededRandomTests {
    @Test func sameSeedSameSequence() {
        var first = SeededRandom(seed: 42), second = SeededRandom(seed: 42)
        #expect((0..<100).map { _ in first.next() } == (0..<100).map { _ in second.next() })
    }

    @Test func differentSeedsDiffer() {
        var first = SeededRandom(seed: 1), second = SeededRandom(seed: 2)
        #expect(first.next() != second.next())
    }

    @Test func rangesAndChancesStayInBounds() {
        var random = SeededRandom(seed: 7)
        var hits = 0
        for _ in 0..<10_000 {
            let value = random.int(in: 3..<9)
            #expect((3..<9).contains(value))
            if random.chance(0.25) { hits += 1 }
        }
        #expect((2_000...3_000).contains(hits))
        let never = random.chance(0), always = random.chance(1)
        #expect(!never && always)
    }

    @Test func forkedGeneratorsAreIndependentOfLaterDraws() {
        var parent = SeededRandom(seed: 9)
        var child = parent.fork()
        let childDraws = (0..<5).map { _ in child.next() }
        var parentAgain = SeededRandom(seed: 9)
        var childAgain = parentAgain.fork()
        _ = parentAgain.next()
        #expect((0..<5).map { _ in childAgain.next() } == childDraws)
    }
}
