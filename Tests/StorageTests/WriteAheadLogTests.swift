import ConsensusCore
import Storage
import Testing

@Suite struct WriteAheadLogTests {
    func entry(_ index: LogIndex, term: Term = 1, _ text: String = "") -> Entry {
        Entry(index: index, term: term, data: Array((text.isEmpty ? "e\(index)" : text).utf8))
    }

    func entries(_ range: ClosedRange<LogIndex>, term: Term = 1) -> [WALRecord] { range.map { .entry(entry($0, term: term)) } }

    @Test func whatIsSyncedIsRecovered() throws {
        let directory = FaultyDirectory(seed: 1)
        let (log, fresh) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 4096)
        #expect(fresh.entries.isEmpty && fresh.hardState == nil)
        try log.append(entries(1...3) + [.hardState(hardState(1, 2, 2))])
        try log.sync()
        directory.crash()
        let (_, recovered) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 4096)
        #expect(recovered.entries.map(\.index) == [1, 2, 3])
        #expect(recovered.hardState == hardState(1, 2, 2))
        #expect(recovered.tornTail == nil)
    }

    /// Raft's conflict overwrite: a later entry at an earlier index replaces the suffix.
    @Test func laterEntriesOverwriteAConflictingSuffix() throws {
        let directory = FaultyDirectory(seed: 2)
        let (log, _) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 4096)
        try log.append(entries(1...5))
        try log.append([.entry(entry(3, term: 2, "new3"))])
        try log.sync()
        let (_, recovered) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 4096)
        #expect(recovered.entries.map(\.index) == [1, 2, 3])
        #expect(recovered.entries.last?.term == 2)
    }

    @Test func segmentsRotateChainAndAreReleasedBehindASnapshot() throws {
        let directory = FaultyDirectory(seed: 3)
        let (log, _) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 4096)
        try log.append([.hardState(hardState(3, 1, 0))])
        for index in 1...400 as ClosedRange<LogIndex> { try log.append([.entry(entry(index, String(repeating: "x", count: 40)))]) }
        try log.sync()
        #expect(log.segmentCount > 3)
        let (_, recovered) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 4096)
        #expect(recovered.entries.map(\.index) == Array(1...400))
        try log.append([.snapshotMarker(index: 300, term: 1)])
        try log.releaseSegments(coveredBy: 300)
        try log.sync()
        let (_, afterRelease) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 4096)
        #expect(afterRelease.snapshot?.index == 300)
        #expect(afterRelease.entries.map(\.index) == Array(301...400))
        // Every segment repeats the newest hard state, so dropping old ones loses nothing.
        #expect(afterRelease.hardState == hardState(3, 1, 0))
    }

    /// A torn last write is cut off and reported; later appends and recoveries work.
    @Test func aTornTailIsTruncatedAndReported() throws {
        var sawTorn = false
        for seed in 0..<40 as Range<UInt64> {
            let directory = FaultyDirectory(seed: seed)
            let (log, _) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 1 << 16)
            try log.append(entries(1...3))
            try log.sync()
            try log.append(entries(4...6))
            try log.writeBufferedRecords()  // Written, never synced: the crash may tear them.
            directory.crash()
            let (reopened, recovered) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 1 << 16)
            #expect(Array(recovered.entries.map(\.index).prefix(3)) == [1, 2, 3])
            #expect(recovered.entries.map(\.index) == Array(1...LogIndex(recovered.entries.count)))
            if recovered.tornTail != nil { sawTorn = true }
            try reopened.append(entries(LogIndex(recovered.entries.count + 1)...LogIndex(recovered.entries.count + 2)))
            try reopened.sync()
            let (_, again) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 1 << 16)
            #expect(again.entries.count == recovered.entries.count + 2)
            #expect(again.tornTail == nil)
        }
        #expect(sawTorn, "no seed produced a torn tail")
    }

    /// A flipped bit in a record that is followed by valid data is corruption, reported with the
    /// file and offset, never skipped.
    @Test func aBitFlipInAnOldRecordStopsRecoveryWithItsLocation() throws {
        let directory = FaultyDirectory(seed: 4)
        let (log, _) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 1 << 16)
        try log.append(entries(1...10))
        try log.sync()
        let name = try directory.list().first!
        directory.flipBit(in: name, at: 80, bit: 3)
        #expect {
            _ = try WriteAheadLog.open(directory: directory, segmentBytesMax: 1 << 16)
        } throws: { error in
            guard case StorageError.corruptRecord(let file, let offset, _) = error else { return false }
            return file == name && offset <= 80
        }
    }

    @Test func aFullDiskIsAnErrorAndAcknowledgesNothing() throws {
        let directory = FaultyDirectory(seed: 5, capacityBytes: 9_000)
        let (log, _) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 4096)
        try log.append(entries(1...2))
        try log.sync()
        var failed = false
        for index in 3...2_000 as ClosedRange<LogIndex> {
            do {
                try log.append([.entry(entry(index, String(repeating: "y", count: 100)))])
            } catch {
                let full: Bool
                if case .diskFull = error { full = true } else { full = false }
                #expect(full, "expected a full disk, got \(error)")
                failed = true
                break
            }
        }
        #expect(failed)
        directory.crash()
        let (_, recovered) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 4096)
        #expect(recovered.entries.prefix(2).map(\.index) == [1, 2])
    }

    /// Many rounds of appends, syncs and crashes at random points: every synced record survives, in
    /// order, and nothing that was never written appears.
    @Test func syncedRecordsSurviveRandomCrashes() throws {
        var random = SeededRandom(seed: 99)
        for round in 0..<60 {
            let directory = FaultyDirectory(seed: UInt64(round))
            var (log, _) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 4096)
            var durable: LogIndex = 0
            var written: LogIndex = 0
            for _ in 0..<random.int(in: 1..<8) {
                for _ in 0..<random.int(in: 1..<30) {
                    written += 1
                    try log.append([.entry(entry(written, String(repeating: "z", count: random.int(in: 1..<90))))])
                }
                if random.chance(0.6) {
                    try log.sync()
                    durable = written
                }
                if random.chance(0.3) {
                    if random.chance(0.7) { try log.writeBufferedRecords() }
                    directory.crash()
                    let (reopened, recovered) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 4096)
                    let indexes = recovered.entries.map(\.index)
                    #expect(indexes == Array(1...max(1, LogIndex(indexes.count))).prefix(indexes.count).map { $0 })
                    #expect(LogIndex(indexes.count) >= durable, "round \(round): lost synced entries (\(indexes.count) < \(durable))")
                    #expect(LogIndex(indexes.count) <= written)
                    log = reopened
                    written = LogIndex(indexes.count)
                    durable = written
                }
            }
        }
    }
}
