/// A deterministic pseudo-random generator (xoshiro256**), seeded through SplitMix64.
///
/// Engines never use the system generator: every random choice (election timeouts, simulated faults)
/// comes from one of these, so a run is reproduced exactly by its seed. It is a value type; copying it
/// forks the sequence, which is what a restarted simulated node wants.
public struct SeededRandom: RandomNumberGenerator, Sendable {
    private var state: (UInt64, UInt64, UInt64, UInt64)

    public init(seed: UInt64) {
        var splitMix = seed
        func next() -> UInt64 {
            splitMix &+= 0x9E37_79B9_7F4A_7C15
            var z = splitMix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        state = (next(), next(), next(), next())
    }

    public mutating func next() -> UInt64 {
        let result = rotateLeft(state.1 &* 5, 7) &* 9
        let shifted = state.1 << 17
        state.2 ^= state.0
        state.3 ^= state.1
        state.1 ^= state.2
        state.0 ^= state.3
        state.2 ^= shifted
        state.3 = rotateLeft(state.3, 45)
        return result
    }

    /// A uniformly distributed integer in `range`.
    public mutating func int(in range: Range<Int>) -> Int { Int.random(in: range, using: &self) }

    /// True with probability `probability`, which must lie in 0...1.
    public mutating func chance(_ probability: Double) -> Bool {
        precondition((0...1).contains(probability), "probability \(probability) outside 0...1")
        if probability == 0 { return false }
        return Double(next() >> 11) * 0x1.0p-53 < probability
    }

    /// Derives an independent generator, so that one seed can feed several consumers whose draws do
    /// not shift each other's sequences.
    public mutating func fork() -> SeededRandom { SeededRandom(seed: next()) }

    private func rotateLeft(_ value: UInt64, _ amount: UInt64) -> UInt64 {
        (value << amount) | (value >> (64 - amount))
    }
}
