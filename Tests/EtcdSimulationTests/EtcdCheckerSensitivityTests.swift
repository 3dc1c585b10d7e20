import EtcdServer
import EtcdSimulation
import Raft
import RaftTestKit
import Simulation
import Testing

/// Each checker of the etcd service's simulation, shown to catch a service broken on purpose
/// (`EtcdServiceFaults`): a checker that never fires proves nothing.
@Suite struct EtcdCheckerSensitivityTests {
    func sweep(_ service: @escaping SimulatedServiceFactory, seeds: UInt64) -> [SimulationReport] {
        var template = SimulationOptions(seed: 0)
        template.faultPhaseTicks = 300
        template.healPhaseTicks = 300
        return (710_000..<(710_000 + seeds)).map { seed in
            var options = template
            options.seed = seed
            return Simulator<RaftEngine>(options: options, service: service).run()
        }
    }

    /// Members answering linearizable reads from their own store (a partitioned old leader, a
    /// follower behind) give stale reads: the history is not linearizable.
    @Test func staleReadsAreCaughtByLinearizability() {
        let reports = sweep(EtcdSimulatedService.factory(faults: EtcdServiceFaults(staleReads: true)), seeds: 10)
        #expect(reports.contains { $0.violations.contains { $0.hasPrefix("linearizability") } })
    }

    /// One member applying puts differently diverges from the others: the states recorded at
    /// equal indexes (snapshots) or the keyspaces at equal revisions differ.
    @Test func aDivergingReplicaIsCaught() {
        let reports = sweep(EtcdSimulatedService.factory(faults: EtcdServiceFaults(alterPuts: true), onNodes: [0]), seeds: 5)
        #expect(reports.allSatisfy { !$0.passed })
        #expect(reports.contains { $0.violations.contains { $0.contains("HashKV") || $0.hasPrefix("snapshot state") } })
    }

    /// Each broken watch (`WatchFault`) is caught by the guarantee it breaks. A reordered reply
    /// shows first as a gap, so reliable is an accepted verdict for it too.
    @Test(arguments: [
        (WatchFault.reorder, ["ordered", "reliable"]),
        (.duplicate, ["unique"]),
        (.split, ["atomic"]),
        (.drop, ["reliable"]),
        (.early, ["start revision"]),
        (.progressAhead, ["bookmarkable"]),
    ])
    func aBrokenWatchIsCaught(fault: WatchFault, verdicts: [String]) {
        let reports = sweep(EtcdSimulatedService.factory(faults: EtcdServiceFaults(watch: fault)), seeds: 8)
        let caught = reports.flatMap(\.violations).filter { violation in verdicts.contains { violation.hasPrefix($0) } }
        #expect(!caught.isEmpty, "\(fault): \(reports.flatMap(\.violations).prefix(3))")
    }

    /// A leader that answers keep-alives without renewing lets leases kept alive expire: the
    /// lease checker sees a revocation earlier than the renewal's TTL allows.
    @Test func leasesRevokedDespiteRenewalsAreCaught() {
        let reports = sweep(EtcdSimulatedService.factory(faults: EtcdServiceFaults(ignoreLeaseRenewals: true)), seeds: 12)
        #expect(reports.contains { $0.violations.contains { $0.contains("was revoked") && $0.contains("after the renewal") } })
    }
}
