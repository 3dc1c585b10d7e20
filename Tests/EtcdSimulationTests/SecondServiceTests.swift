import ConsensusCore
import EtcdServer
import EtcdSimulation
import Raft
import Replica
import RaftTestKit
import Simulation
import Testing

/// A second service on the etcd service's log, added without touching etcd: a replicated counter
/// whose every node proposes increments while the simulated etcd clients run. The simulator's
/// state check compares each node's composite snapshot (etcd's part and the counter's) at equal
/// indexes, so a counter that diverged anywhere would fail the seed.
final class CounterService: HostedService {
    static let counterTag = ServiceTag(rawValue: 0x43)  // "C"
    let tag = counterTag
    let replica: any ReplicaHandle
    /// Adds 2 instead of 1 when set: a broken replica, for the sensitivity test.
    let broken: Bool
    private(set) var total: UInt64 = 0
    private var proposals: UInt64 = 0
    private var lastProposal: ContinuousClock.Instant?

    init(replica: any ReplicaHandle, broken: Bool = false) {
        self.replica = replica
        self.broken = broken
    }

    func apply(_ entries: [Entry], status: EngineStatus) {
        for entry in entries where entry.kind == .command {
            // The router gives this service only its own commands: anything else is a routing bug.
            precondition(entry.data.first == tag.rawValue && entry.data.count == 2, "counter got \(entry)")
            total += UInt64(entry.data[1]) * (broken ? 2 : 1)
        }
    }

    func afterIteration(status: EngineStatus, now: ContinuousClock.Instant) {
        // By time, not by iteration: a proposal makes iterations of its own.
        if let lastProposal, now - lastProposal < .milliseconds(700) { return }
        lastProposal = now
        proposals += 1
        _ = replica.propose(Proposal(id: tag.requestID(proposals), data: [tag.rawValue, 1]))
    }

    func snapshotWriter() -> @Sendable () -> [UInt8] {
        var writer = ByteWriter()
        writer.write(total)
        let bytes = writer.bytes
        return { bytes }
    }

    func restore(_ snapshot: Snapshot) {
        var reader = ByteReader(snapshot.data)
        total = reader.readUInt64() ?? 0
    }

    func acceptsSnapshotPart(_ part: [UInt8]) -> Bool { part.isEmpty || part.count == 8 }
    func readReady(_ id: RequestID, index: LogIndex) {}
    func rejected(_ id: RequestID, _ reason: RequestRejection) {}
    func handlePeerRequest(_ payload: [UInt8], from: NodeID, callID: UInt64) -> [UInt8]? { nil }
    func handlePeerResponse(id: UInt64, _ payload: [UInt8]) {}
    func acceptsForwardedProposal(_ data: [UInt8]) -> Bool { data.count == 2 }
    func storageSpace(exhausted: Bool) {}
}

@Suite struct SecondServiceTests {
    final class Counters: @unchecked Sendable {
        var byNode: [Int: CounterService] = [:]
    }

    func sweep(seeds: Range<UInt64>, brokenOn brokenNode: Int? = nil) -> (reports: [SimulationReport], counted: UInt64) {
        var counted: UInt64 = 0
        let reports = seeds.map { seed in
            var options = SimulationOptions(seed: seed)
            options.faultPhaseTicks = 300
            options.healPhaseTicks = 300
            let counters = Counters()
            let report = Simulator<RaftEngine>(options: options) { nodeCount, options in
                let etcd = EtcdSimulatedService(nodeCount: nodeCount, tickMicros: options.tickMicros, seed: options.seed, keyCount: options.keyCount, faultPhaseTicks: options.faultPhaseTicks)
                etcd.companion = { node, router, replica in
                    let counter = CounterService(replica: router.handle(for: CounterService.counterTag, over: replica), broken: node == brokenNode)
                    counters.byNode[node] = counter
                    return counter
                }
                return etcd
            }.run()
            counted += counters.byNode.values.map(\.total).max() ?? 0
            return report
        }
        return (reports, counted)
    }

    @Test func aSecondServiceSharesTheLogWithEtcd() {
        let (reports, counted) = sweep(seeds: 720_000..<720_030)
        for report in reports {
            #expect(report.passed, "seed \(report.seed): \(report.violations.prefix(3))")
        }
        #expect(counted > 0, "the counter applied nothing")
        #expect(reports.map { $0.counters["watch_events", default: 0] }.reduce(0, +) > 0, "the etcd checkers saw no watch events")
    }

    /// The state check covers every service's part: a counter that applies differently on one node
    /// fails the seed though etcd's part is equal everywhere.
    @Test func aDivergingSecondServiceIsCaught() {
        let (reports, _) = sweep(seeds: 720_100..<720_105, brokenOn: 0)
        #expect(reports.contains { $0.violations.contains { $0.hasPrefix("snapshot state") } })
    }
}
