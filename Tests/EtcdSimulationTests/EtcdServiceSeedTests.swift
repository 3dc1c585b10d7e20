import ConsensusCore
import EtcdSimulation
import Raft
import RaftTestKit
import Simulation
import Testing

/// The real etcd service (MVCC store, lessor, watch hub, pending requests) on every node of the
/// simulator, under its faults: partitions, loss, crashes between a write and its sync, torn
/// writes, membership changes and disk corruption. Each seed's history must be linearizable, each
/// member's revisions must never go back, and members at one revision must hold one keyspace.
/// 2,000 seeds here, the last 400 with each node's own write-ahead log on a faulty disk (a crash is
/// a power cut and the node's recovery); `synod sim --service etcd --seeds N [--disk wal]` runs as
/// many more as you like.
@Suite struct EtcdServiceSeedTests {
    static let seedsPerBatch: UInt64 = 100
    static let batches: UInt64 = 20
    /// Batches from here on keep each node's log in its own write-ahead log (`SimulatedDisk.wal`).
    static let firstWALBatch: UInt64 = 16

    @Test(arguments: 0..<batches)
    func etcdServiceSeedsAreSafeLinearizableAndLive(batch: UInt64) {
        var template = SimulationOptions(seed: 0)
        template.nodeCount = batch % 2 == 0 ? 3 : 5
        template.faultPhaseTicks = 300
        template.healPhaseTicks = 300
        template.disk = batch >= Self.firstWALBatch ? .wal : .model
        let first = 700_000 + batch * Self.seedsPerBatch
        let sweep = SeedSweep(engine: Simulator<RaftEngine>.runner, seeds: first..<(first + Self.seedsPerBatch), template: template, service: EtcdSimulatedService.factory)
        let summary = sweep.run()
        for failure in summary.failures {
            Issue.record("seed \(failure.seed) (\(failure.nodeCount) nodes): \(failure.violations.joined(separator: "; "))\nreplay: \(failure.replayCommand(engine: "raft", service: "etcd", clients: template.clientCount))\n\(failure.traceTail.suffix(30).joined(separator: "\n"))")
        }
        #expect(summary.violations == 0)
        #expect(summary.operationsCompleted > 0)
        if template.disk == .wal { #expect(summary.counters["wal_recoveries", default: 0] > 0) }
    }
}
