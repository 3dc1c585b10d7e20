import ConsensusCore
import Raft
import RaftTestKit
import Simulation
import Storage
import Testing

/// Runs whose nodes keep their log in the node's own write-ahead log over a faulty disk
/// (`SimulatedDisk.wal`): a crash is a power cut and the node's recovery, checked against what
/// was synced.
@Suite struct WALDiskTests {
    func run(seed: UInt64, ignoringSyncs: Bool = false, hidingFlips: Bool = false, trace: Bool = false) -> SimulationReport {
        var options = SimulationOptions(seed: seed)
        options.faultPhaseTicks = 400
        options.healPhaseTicks = 300
        options.disk = .wal
        options.disksIgnoreSyncs = ignoringSyncs
        options.disksHideBitFlips = hidingFlips
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
        // The disk's own faults happened too: disks filled (writes that did not fit stopped their
        // node) and bits flipped in old records (which the real recovery refused).
        #expect(reports.reduce(0) { $0 + ($1.counters["disks_filled"] ?? 0) } > 10)
    }

    @Test func bitsFlippedInTheLogsFilesAreRefusedByRecoveryAndTheNodeReplaced() {
        let reports = (1...150 as ClosedRange<UInt64>).map { run(seed: $0) }
        for report in reports where !report.passed { Issue.record("seed \(report.seed): \(report.violations)") }
        #expect(reports.reduce(0) { $0 + $1.disksCorrupted } > 0)
        #expect(reports.reduce(0) { $0 + $1.nodesReplaced } > 0)
    }

    @Test func aRecoveryThatAcceptsAFlippedLogIsCaught() {
        // The same seeds on disks that hide the flips: recovery accepts what the simulator counts
        // as corrupt, and the check says so.
        let reports = (1...150 as ClosedRange<UInt64>).map { run(seed: $0, hidingFlips: true) }
        #expect(reports.contains { $0.violations.contains { $0.contains("recovered a log with a flipped bit") } })
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

    // MARK: The disk's own faults, on the log alone

    /// A log long enough to have sealed segments: entries of `payload` bytes, synced in groups.
    func diskWithSealedSegments(seed: UInt64, entryCount: LogIndex = 300) throws -> Disk {
        let disk = try Disk(seed: seed, initial: RaftHardState())
        for first in stride(from: 1, through: entryCount, by: 10) {
            let batch = (first...min(first + 9, entryCount)).map { Entry(index: $0, term: 1, kind: .command, data: [UInt8](repeating: UInt8($0 & 0xff), count: 200)) }
            try disk.write(PersistRequest(hardState: RaftHardState(term: 1, vote: nil, commit: first), entries: batch))
            try disk.sync()
        }
        return disk
    }

    @Test func everyBitFlippedInAnOldRecordIsRefusedByTheRealRecovery() throws {
        for seed in 1...40 as ClosedRange<UInt64> {
            let disk = try diskWithSealedSegments(seed: seed)
            #expect(disk.hasSealedSegments)
            var random = SeededRandom(seed: seed)
            let flipped = try #require(disk.flipBitInOldRecord(random: &random))
            let refusal = disk.recoveryRefusal()
            guard case .corruptRecord? = refusal else {
                Issue.record("seed \(seed): a bit flipped in \(flipped.file) at \(flipped.offset) was recovered as \(String(describing: refusal))")
                continue
            }
        }
    }

    @Test func aFullDiskStopsSegmentPreparationThenTheWriterAndLosesNothingSynced() throws {
        let disk = try diskWithSealedSegments(seed: 3, entryCount: 20)
        disk.fill(leavingRoom: 0)
        #expect(disk.isFilled)
        var next: LogIndex = 21
        var stopped: StorageError?
        while stopped == nil && next < 2_000 {
            do {
                try disk.write(PersistRequest(hardState: nil, entries: [Entry(index: next, term: 1, kind: .command, data: [UInt8](repeating: 1, count: 200))]))
                try disk.sync()
                next += 1
            } catch {
                stopped = error
            }
        }
        guard case .diskFull? = stopped else {
            Issue.record("a full disk should stop the writer, got \(String(describing: stopped))")
            return
        }
        #expect(disk.isOutOfSpace, "the next segment could not be prepared before the current one filled")
        disk.makeRoom()
        #expect(!disk.isOutOfSpace)
        let recovered = try disk.crashAndRecover()
        #expect(recovered.entries.last?.index == next - 1, "every synced entry survives the full disk and the power cut")
    }
}
