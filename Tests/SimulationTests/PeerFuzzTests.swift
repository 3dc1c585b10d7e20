import Raft
import RaftTestKit
import Simulation
import Testing

/// No peer message traps a Raft engine; messages the boundary must refuse are all dropped and the
/// cluster stays safe. `synod fuzz peer --seeds N --steps M` runs as many more as you like.
@Suite struct PeerFuzzTests {
    static let seedCount: UInt64 = 200
    static let stepsPerSeed = 5_000

    @Test(arguments: PeerFuzz.Mode.allCases)
    func peerMessagesNeverTrapAnEngine(mode: PeerFuzz.Mode) {
        var injected = 0
        var dropped = 0
        var committed: UInt64 = 0
        for seed in 1...Self.seedCount {
            let report = PeerFuzz.run(seed: seed, steps: Self.stepsPerSeed, mode: mode)
            for violation in report.violations {
                Issue.record("seed \(seed) (\(mode.rawValue)): \(violation)\nreplay: synod fuzz peer --mode \(mode.rawValue) --seed \(seed) --seeds 1 --steps \(Self.stepsPerSeed)")
            }
            injected += report.injected
            dropped += report.dropped
            committed += report.committed
        }
        // The runs must do real work: messages injected, some dropped, entries committed.
        #expect(injected > Int(Self.seedCount) * Self.stepsPerSeed / 2)
        #expect(dropped > injected / 20)
        #expect(committed > Self.seedCount * 100)
        if mode == .boundaryOnly { #expect(dropped == injected) }
    }
}
