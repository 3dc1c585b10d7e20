import ConsensusCore
import Raft
import RaftTestKit
import Simulation
import Testing
import ZooKeeperServer
import ZooKeeperSimulation

/// The real ZooKeeper service (the data tree on the log, sessions, the leader's expiry, requests
/// in session order) on every node of the simulator, driven through the wire protocol by clients
/// that move between members with their sessions, under partitions, loss, crashes, torn writes
/// and membership changes. Each seed's history must be linearizable (gets are a sync then a
/// getData), every client's replies in xid order with zxids that never go back, sequential names
/// unique and ordered, and members at one index must hold one tree. `synod sim --service
/// zookeeper --seeds N` runs as many more as you like.
@Suite struct ZooKeeperServiceSeedTests {
    static let seedsPerBatch: UInt64 = 100
    static let batches: UInt64 = 6

    @Test(arguments: 0..<batches)
    func zooKeeperServiceSeedsAreSafeLinearizableAndLive(batch: UInt64) {
        var template = SimulationOptions(seed: 0)
        template.nodeCount = batch % 2 == 0 ? 3 : 5
        template.faultPhaseTicks = 300
        template.healPhaseTicks = 300
        template.disk = batch == Self.batches - 1 ? .wal : .model
        let first = 900_000 + batch * Self.seedsPerBatch
        let sweep = SeedSweep(engine: Simulator<RaftEngine>.runner, seeds: first..<(first + Self.seedsPerBatch), template: template, service: ZooKeeperSimulatedService.factory)
        let summary = sweep.run()
        for failure in summary.failures {
            Issue.record("seed \(failure.seed) (\(failure.nodeCount) nodes): \(failure.violations.joined(separator: "; "))\nreplay: \(failure.replayCommand(engine: "raft", service: "zookeeper", clients: template.clientCount))\n\(failure.traceTail.suffix(30).joined(separator: "\n"))")
        }
        #expect(summary.violations == 0)
        #expect(summary.operationsCompleted > 0)
        #expect(summary.counters["sessions_resumed", default: 0] > 0, "clients moved between members with their sessions")
    }

    func sweep(_ faults: ZooKeeperServiceFaults, seeds: UInt64) -> [SimulationReport] {
        var template = SimulationOptions(seed: 0)
        template.faultPhaseTicks = 300
        template.healPhaseTicks = 300
        return (910_000..<(910_000 + seeds)).map { seed in
            var options = template
            options.seed = seed
            return Simulator<RaftEngine>(options: options, service: ZooKeeperSimulatedService.factory(faults: faults)).run()
        }
    }

    /// Reads answered as they arrive, not after the session's sync and writes before them: the
    /// read's reply shows an older zxid than the sync's before it.
    @Test func readsThatSkipTheSessionsOrderAreCaught() {
        let reports = sweep(ZooKeeperServiceFaults(readsSkipSessionOrder: true), seeds: 10)
        #expect(reports.contains { $0.violations.contains { $0.contains("saw zxid") } })
    }

    /// Syncs answered without the leader's read index: a member cut off from the leader serves
    /// stale values, and the history is not linearizable.
    @Test func syncsThatSkipTheReadIndexAreCaught() {
        let reports = sweep(ZooKeeperServiceFaults(syncsSkipReadIndex: true), seeds: 10)
        #expect(reports.contains { $0.violations.contains { $0.hasPrefix("linearizability") } })
    }
}
