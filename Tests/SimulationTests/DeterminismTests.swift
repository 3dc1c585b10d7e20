import RaftTestKit
import Simulation
import Testing

/// A seed is a complete description of a run: replaying it gives the same trace, byte for byte.
@Suite struct DeterminismTests {
    func fullTrace(seed: UInt64, nodes: Int) -> SimulationReport {
        var options = SimulationOptions(seed: seed)
        options.nodeCount = nodes
        options.faultPhaseTicks = 200
        options.healPhaseTicks = 250
        options.recordFullTrace = true
        return Simulator<RaftEngineUnderTest>(options: options).run()
    }

    @Test(arguments: [(7 as UInt64, 3), (8, 5)])
    func sameSeedGivesTheSameTraceByteForByte(seed: UInt64, nodes: Int) {
        let first = fullTrace(seed: seed, nodes: nodes)
        let second = fullTrace(seed: seed, nodes: nodes)
        #expect(first.fullTrace.count > 1_000)
        #expect(first.fullTrace.joined(separator: "\n") == second.fullTrace.joined(separator: "\n"))
        #expect(first.traceDigest == second.traceDigest)
        #expect(first.events == second.events && first.faults == second.faults)
    }

    @Test func differentSeedsGiveDifferentRuns() {
        #expect(fullTrace(seed: 1, nodes: 3).traceDigest != fullTrace(seed: 2, nodes: 3).traceDigest)
    }
}
