import ConsensusCore
import Storage
import Testing

/// Released segments are reused as later segments without being zero-filled, so a recycled file
/// holds an earlier segment's records past the new ones. Recovery must read exactly the new
/// segment's records, still cut a torn tail, and still refuse damage in the middle.
@Suite struct SegmentRecyclingTests {
    static let segmentBytes = 4096

    func entry(_ index: LogIndex) -> WALRecord {
        .entry(Entry(index: index, term: 1, data: Array(String(repeating: "r", count: 40 + Int(index % 7)).utf8)))
    }

    /// Fills segments, snapshots, releases them and fills more: the released files come back as
    /// new segments, and every recovery reads exactly what was written.
    func logWithRecycledSegments(_ directory: FaultyDirectory) throws -> (log: WriteAheadLog, last: LogIndex) {
        let (log, _) = try WriteAheadLog.open(directory: directory, segmentBytesMax: Self.segmentBytes)
        var index: LogIndex = 0
        for _ in 0..<6 {
            for _ in 0..<120 {
                index += 1
                try log.append([entry(index)])
            }
            try log.append([.snapshotMarker(index: index - 10, term: 1)])
            try log.sync()
            try log.releaseSegments(coveredBy: index - 10)
            try log.sync()
        }
        return (log, index)
    }

    func recycledNames(_ directory: FaultyDirectory) throws -> [String] {
        try directory.list().filter { $0.hasPrefix("segment-recycled-") }
    }

    @Test func releasedSegmentsAreReusedAndRecoveryReadsOnlyNewRecords() throws {
        let directory = FaultyDirectory(seed: 21)
        var (log, last) = try logWithRecycledSegments(directory)
        // Move to one more segment, which takes a released file, and leave it partly written.
        let recycledBefore = try recycledNames(directory)
        #expect(!recycledBefore.isEmpty)
        let segmentsBefore = log.segmentCount
        while log.segmentCount == segmentsBefore {
            last += 1
            try log.append([entry(last)])
        }
        for _ in 0..<3 {
            last += 1
            try log.append([entry(last)])
        }
        try log.sync()
        #expect(try recycledNames(directory).count == recycledBefore.count - 1)
        try log.append([.snapshotMarker(index: last - 10, term: 1)])
        try log.sync()
        let liveSegments = try directory.list().filter { $0.hasSuffix(".wal") }
        #expect(log.segmentCount == liveSegments.count)
        #expect(try recycledNames(directory).count <= 2)
        let (_, recovered) = try WriteAheadLog.open(directory: directory, segmentBytesMax: Self.segmentBytes)
        #expect(recovered.snapshot?.index == last - 10)
        #expect(recovered.entries.map(\.index) == Array((last - 9)...last))
        #expect(recovered.tornTail == nil)
        // At least one live segment is a reused file that still holds an older segment's frames
        // after its own (nothing zeroed it): what recovery had to see past.
        let holdsOldFrames = try directory.list().filter { $0.hasSuffix(".wal") }.contains { name in
            let contents = directory.contents(of: name)!
            let own = UInt64(name.dropFirst("segment-".count).dropLast(".wal".count))!
            return (0..<(contents.count - 9)).contains { offset in
                let field = contents[(offset + 5)..<(offset + 9)].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
                return field != 0 && field != UInt32(own) && field < UInt32(own)
                    && WALFrame.firstFrame(of: UInt64(field), in: contents, from: offset) == offset
            }
        }
        #expect(holdsOldFrames, "no segment was a reused file")
    }

    /// A bit flip in a record of a recycled segment that is followed by this segment's records is
    /// corruption, reported with its location, however much stale data lies beyond.
    @Test func damageInTheMiddleOfARecycledSegmentStopsRecovery() throws {
        let directory = FaultyDirectory(seed: 22)
        _ = try logWithRecycledSegments(directory)
        let newest = try directory.list().filter { $0.hasSuffix(".wal") }.sorted().last!
        directory.flipBit(in: newest, at: 200, bit: 2)
        #expect {
            _ = try WriteAheadLog.open(directory: directory, segmentBytesMax: Self.segmentBytes)
        } throws: { error in
            guard case StorageError.corruptRecord(let file, let offset, _) = error else { return false }
            return file == newest && offset <= 200
        }
    }

    /// Crashes at random points while segments are released and reused: every synced record
    /// survives, nothing unwritten appears, and recovery never mistakes an old segment's frames
    /// for damage or for data.
    @Test func syncedRecordsSurviveCrashesWhileSegmentsAreRecycled() throws {
        var random = SeededRandom(seed: 7)
        var crashes = 0
        var sawTorn = false
        for round in 0..<40 {
            let directory = FaultyDirectory(seed: UInt64(round) + 100)
            var (log, _) = try WriteAheadLog.open(directory: directory, segmentBytesMax: Self.segmentBytes)
            var written: LogIndex = 0
            var durable: LogIndex = 0
            var snapshot: LogIndex = 0
            for _ in 0..<random.int(in: 4..<16) {
                for _ in 0..<random.int(in: 1..<60) {
                    written += 1
                    try log.append([entry(written)])
                }
                if random.chance(0.7) {
                    try log.sync()
                    durable = written
                }
                if random.chance(0.4), durable > snapshot + 20 {
                    snapshot = durable - 5
                    try log.append([.snapshotMarker(index: snapshot, term: 1)])
                    try log.sync()
                    durable = written
                    try log.releaseSegments(coveredBy: snapshot)
                }
                if random.chance(0.3) {
                    crashes += 1
                    // Records buffered since the last sync reach the file now and then before the
                    // power goes, so crashes tear writes too.
                    if random.chance(0.7) { try log.writeBufferedRecords() }
                    directory.crash()
                    let (reopened, recovered) = try WriteAheadLog.open(directory: directory, segmentBytesMax: Self.segmentBytes)
                    if recovered.tornTail != nil { sawTorn = true }
                    let base = recovered.snapshot?.index ?? 0
                    #expect(base >= snapshot || base >= durable, "round \(round): lost a synced snapshot marker")
                    let indexes = recovered.entries.map(\.index)
                    let top = indexes.last ?? base
                    #expect(indexes == Array(stride(from: base + 1, through: top, by: 1)), "round \(round): entries not contiguous after \(base)")
                    #expect(top >= durable, "round \(round): lost synced entries (\(top) < \(durable))")
                    #expect(top <= written)
                    log = reopened
                    written = top
                    durable = top
                    snapshot = base
                }
            }
        }
        #expect(crashes > 10)
        #expect(sawTorn, "no crash tore a write")
    }

    /// Rotation renames the next file into place before its header is written: if the crash comes
    /// between, the segment holds only an old segment's frames (or zeros) and part of its header;
    /// recovery drops it, so the log starts it again, header first.
    @Test func aSegmentWhoseHeaderNeverLandedIsStartedAgain() throws {
        let directory = FaultyDirectory(seed: 23)
        let (log, last) = try logWithRecycledSegments(directory)
        try log.sync()
        let newest = try directory.list().filter { $0.hasSuffix(".wal") }.sorted().last!
        let number = UInt64(newest.dropFirst("segment-".count).dropLast(".wal".count))!
        // A reused file named as the next segment, holding only what an earlier segment wrote.
        let recycled = try directory.list().first { $0.hasPrefix("segment-recycled-") }
        let digits = String(number + 1)
        let nextName = "segment-" + String(repeating: "0", count: 16 - digits.count) + digits + ".wal"
        if let recycled {
            try directory.rename(recycled, to: nextName)
        } else {
            let file = try directory.open(nextName, create: true)
            try file.write([UInt8](repeating: 0, count: Self.segmentBytes), at: 0)
            try file.sync()
        }
        // Half of its header made it: a torn write at offset 0.
        let header = WALFrame.encode(.segmentHeader(previousChecksum: 1, segmentNumber: number + 1), segment: number + 1, offset: 0).bytes
        try directory.open(nextName, create: false).write(Array(header.prefix(header.count / 2)), at: 0)
        try directory.sync()
        let (reopened, recovered) = try WriteAheadLog.open(directory: directory, segmentBytesMax: Self.segmentBytes)
        #expect(recovered.entries.last?.index == last)
        #expect(recovered.tornTail?.offset == 0)
        try reopened.append([entry(last + 1)])
        try reopened.sync()
        let (_, again) = try WriteAheadLog.open(directory: directory, segmentBytesMax: Self.segmentBytes)
        #expect(again.entries.last?.index == last + 1)
    }
}

/// A sealed segment whose records end less than a frame header before the file's end, over what a
/// recycled file held there: the bytes cannot name their segment, and the writer never starts a
/// record where it would not fit, so they are leftovers and the log is sound. Recovery refused
/// such a log until `synod sim --disk wal` found one (seed 7077).
@Suite struct CutOffFrameHeaderTests {
    static let segmentBytes = 4096

    /// Segment 1 holds its header and one entry, then `leftover`, and ends at `end`; segment 2
    /// holds only its header.
    func directory(leftover: [UInt8], at end: Int = CutOffFrameHeaderTests.segmentBytes) throws -> FaultyDirectory {
        let directory = FaultyDirectory(seed: 5)
        let header = WALFrame.encode(.segmentHeader(previousChecksum: 0, segmentNumber: 1), segment: 1, offset: 0)
        let recordEnd = end - leftover.count
        let overhead = WALFrame.encode(.entry(Entry(index: 1, term: 1, data: [])), segment: 1, offset: header.bytes.count).bytes.count
        let entry = WALFrame.encode(
            .entry(Entry(index: 1, term: 1, data: [UInt8](repeating: 7, count: recordEnd - header.bytes.count - overhead))),
            segment: 1, offset: header.bytes.count)
        var first = header.bytes + entry.bytes
        #expect(first.count == recordEnd)
        first += leftover
        let second = WALFrame.encode(.segmentHeader(previousChecksum: entry.checksum, segmentNumber: 2), segment: 2, offset: 0).bytes
        for (name, bytes) in [("segment-0000000000000001.wal", first), ("segment-0000000000000002.wal", second + [UInt8](repeating: 0, count: Self.segmentBytes - second.count))] {
            let file = try directory.open(name, create: true)
            try file.write(bytes, at: 0)
            try file.sync()
        }
        try directory.sync()
        return directory
    }

    @Test func aFrameHeaderCutOffByTheEndOfASealedSegmentIsALeftover() throws {
        // The first byte of an old frame's length, then zeros: what the failing seed left.
        let directory = try directory(leftover: [0x34, 0, 0, 0, 0, 0, 0, 0])
        let (_, recovered) = try WriteAheadLog.open(directory: directory, segmentBytesMax: Self.segmentBytes)
        #expect(recovered.entries.map(\.index) == [1])
    }

    @Test func aFrameHeaderWithRoomForItsRecordIsStillAStartedRecord() throws {
        // The same bytes at the end of a file cut short, where a whole record could have begun: a
        // write the crash cut short, which a sealed segment cannot have, so recovery refuses.
        let directory = try directory(leftover: [0x34, 0, 0, 0, 0, 0, 0, 0], at: Self.segmentBytes - 100)
        #expect(throws: StorageError.self) { try WriteAheadLog.open(directory: directory, segmentBytesMax: Self.segmentBytes) }
    }
}
