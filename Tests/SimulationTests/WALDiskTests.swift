import ConsensusCore
import Raft
import RaftTestKit
import Simulation
import Testing

/// Runs whose nodes keep their log in the node's own write-ahead log over a faulty disk
/// (`SimulatedDisk.wal`): a crash is a power cut and the node's recovery, checked against what
/// was synced.
@Suite struct WALDiskTests {
    func run(seed: UInt64, ignoringSyncs: Bool = false, trace: Bool = false) -> SimulationReport {
        var options = SimulationOptions(seed: seed)
        options.faultPhaseTicks = 400
        options.healPhaseTicks = 300
        options.disk = .wal
        options.disksIgnoreSyncs = ignoringSyncs
        options.recordFullTrace = trace
        return Simulator<RaftEngine>(options: options).run()
    }

    @Test func seedsPassWithTheNodesOwnLogAndRecoverItAfterCrashes() {
        let reports = (1...60 as ClosedRange<UInt64>).map { run(seed: $0) }
        for report in reports where !report.passed {
            Issue.record("seed \(report.seed): \(report.violations) (replay: \(report.replayCommand(engine: "raft", service: "kv", clients: 4)))")
        }
        let recoveries = reports.reduce(0) { $0 + ($1.counters["wal_recoveries"] ?? 0) }
        #expect(recoveries > 20, "crashes recovered through the write-ahead log: \(recoveries)")
        #expect(reports.reduce(0) { $0 + $1.snapshotsRestored } > 0)
    }

    @Test func aSeedReplaysByteForByteWithTheLog() {
        let first = run(seed: 11, trace: true)
        let second = run(seed: 11, trace: true)
        #expect(first.fullTrace.count > 1_000)
        #expect(first.traceDigest == second.traceDigest)
        #expect(first.fullTrace == second.fullTrace)
        #expect(first.replayCommand(engine: "raft", service: "kv", clients: 4).contains("--disk wal"))
    }

    @Test func aDiskThatAcknowledgesSyncsWithoutWritingIsCaught() {
        let reports = (1...20 as ClosedRange<UInt64>).map { run(seed: $0, ignoringSyncs: true) }
        #expect(reports.contains { $0.violations.contains { $0.hasPrefix("wal:") } })
    }

    // MARK: The recovery check itself

    typealias Disk = WALDisk<RaftHardState>

    func entries(_ range: ClosedRange<LogIndex>, term: Term) -> [Entry] {
        range.map { Entry(index: $0, term: term, kind: .command, data: [UInt8($0 & 0xff)]) }
    }

    @Test func aLostSyncedEntryIsReported() {
        let synced = DurableState(hardState: RaftHardState(term: 2, vote: nil, commit: 3), entries: entries(1...5, term: 2))
        let recovered = DurableState(hardState: synced.hardState, entries: entries(1...4, term: 2))
        #expect(Disk.lossAfterCrash(synced: synced, unsynced: [], recovered: recovered)?.contains("synced entry 5") == true)
        #expect(Disk.lossAfterCrash(synced: synced, unsynced: [], recovered: synced) == nil)
    }

    @Test func entriesAnUnsyncedTruncationMayHaveRemovedAreNotLoss() {
        let synced = DurableState(hardState: RaftHardState(term: 2, vote: nil, commit: 3), entries: entries(1...5, term: 2))
        let overwrite = PersistRequest(hardState: RaftHardState(term: 3, vote: nil, commit: 3), entries: entries(4...4, term: 3))
        let recovered = DurableState(hardState: overwrite.hardState!, entries: entries(1...3, term: 2) + entries(4...4, term: 3))
        #expect(Disk.lossAfterCrash(synced: synced, unsynced: [overwrite], recovered: recovered) == nil)
    }

    @Test func aHardStateNeverWrittenAndAHoleAreReported() {
        let synced = DurableState(hardState: RaftHardState(term: 2, vote: nil, commit: 3), entries: entries(1...3, term: 2))
        let invented = DurableState(hardState: RaftHardState(term: 9, vote: nil, commit: 3), entries: synced.entries)
        #expect(Disk.lossAfterCrash(synced: synced, unsynced: [], recovered: invented)?.contains("never written") == true)
        let holed = DurableState(hardState: synced.hardState, entries: entries(1...1, term: 2) + entries(3...3, term: 2))
        #expect(Disk.lossAfterCrash(synced: synced, unsynced: [], recovered: holed)?.contains("hole") == true)
    }
}
