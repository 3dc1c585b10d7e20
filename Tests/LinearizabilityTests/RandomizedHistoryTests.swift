import Linearizability
import Testing

/// Histories generated linearizable by construction must be accepted, and the same histories with one
/// read corrupted to a value nobody wrote must be rejected for that read's key.
@Suite struct RandomizedHistoryTests {
    static let seedCount: UInt64 = 200
    static let neverWrittenValue = "never-written"

    @Test func generatedHistoriesAreLinearizable() {
        let generator = RandomHistoryGenerator()
        for seed in 0..<Self.seedCount {
            var random = SplitMix64(seed: seed)
            let history = generator.generate(using: &random)
            let result = checkKeyValue(history)
            #expect(result == .linearizable, "seed \(seed): \(result)")
        }
    }

    @Test func corruptingOneReadBreaksLinearizability() {
        let generator = RandomHistoryGenerator()
        var corruptedCount = 0
        for seed in 0..<Self.seedCount {
            var random = SplitMix64(seed: seed)
            var history = generator.generate(using: &random)
            let completedReads = history.indices.filter { index in
                guard case .get = history[index].input else { return false }
                return !history[index].isIndeterminate
            }
            guard let victim = completedReads.randomElement(using: &random) else { continue }
            guard case .get(let key) = history[victim].input else { preconditionFailure("victim is not a read") }
            history[victim].output = .value(Self.neverWrittenValue)
            corruptedCount += 1
            let result = checkKeyValue(history)
            #expect(failedKey(result) == key, "seed \(seed), corrupted operation \(victim): \(result)")
        }
        #expect(corruptedCount > Int(Self.seedCount) * 9 / 10)
    }

    @Test func moreConcurrencyAndTimeoutsStayLinearizable() {
        var generator = RandomHistoryGenerator()
        generator.operationCount = 300
        generator.keys = ["a", "b", "c", "d", "e"]
        generator.jitterMaxTicks = 60
        generator.timeoutPercent = 20
        for seed in 0..<UInt64(20) {
            var random = SplitMix64(seed: 1_000 + seed)
            let history = generator.generate(using: &random)
            let result = checkKeyValue(history)
            #expect(result == .linearizable, "seed \(seed): \(result)")
        }
    }
}
