import Raft
import RaftTestKit
import Simulation
import Testing

/// The default test run's share of the simulator: 2,000 seeds of 3- and 5-node Raft clusters through a
/// fault phase (partitions, loss, duplication, reordering, crashes mid-write) and a heal phase that
/// requires progress, every step watched by the safety checkers and every history checked for
/// linearizability. `synod sim --seeds N` runs as many more as you like.
@Suite struct SeedSweepTests {
    static let batchCount = 20
    static let seedsPerBatch: UInt64 = 100

    @Test(arguments: 0..<batchCount)
    func raftSeedsAreSafeLinearizableAndLive(batch: Int) {
        var template = SimulationOptions(seed: 0)
        template.nodeCount = batch % 2 == 0 ? 3 : 5
        template.faultPhaseTicks = 300
        template.healPhaseTicks = 300
        let first = 1 + UInt64(batch) * Self.seedsPerBatch
        let sweep = SeedSweep(engine: Simulator<RaftEngine>.runner, seeds: first..<(first + Self.seedsPerBatch), template: template)
        let summary = sweep.run()
        #expect(summary.seeds == Int(Self.seedsPerBatch))
        for failure in summary.failures {
            Issue.record("seed \(failure.seed) (\(failure.nodeCount) nodes): \(failure.violations.joined(separator: "; "))\nreplay: \(failure.replayCommand(engine: "raft", service: "kv", clients: template.clientCount))\n\(failure.traceTail.suffix(30).joined(separator: "\n"))")
        }
        #expect(summary.violations == 0)
        #expect(summary.unknown == 0, "the linearizability checker ran out of budget on \(summary.unknown) seeds")
        // The runs must do real work, or passing would mean nothing.
        #expect(summary.operationsCompleted > Int(Self.seedsPerBatch) * 100)
        #expect(summary.faults > Int(Self.seedsPerBatch) * 3)
        // Snapshots, membership changes and elections must actually happen in the sweep.
        #expect(summary.snapshotsRestored > 0)
        #expect(summary.configurationsCommitted > Int(Self.seedsPerBatch) / 2)
        #expect(summary.leadersElected > Int(Self.seedsPerBatch) * 2)
        // A disk found corrupt at restart must be replaced, and the group must carry on.
        #expect(summary.nodesReplaced > 0)
    }
}
