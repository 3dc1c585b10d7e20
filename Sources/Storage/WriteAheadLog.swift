import ConsensusCore

/// A segmented write-ahead log over a `StorageDirectory`.
///
/// Records are appended to the current segment, a file of `segmentBytesMax` bytes whose blocks are
/// all written already (a released segment reused, or one zero-filled in the background; see
/// `SegmentPreparer`), replaced by a new one when full. Every segment starts with a header that
/// chains it to the previous segment, then the newest hard state and snapshot marker, so any suffix
/// of segments is self-sufficient and old segments can be deleted once a snapshot covers them.
///
/// The log is append-only: a Raft follower that overwrites a conflicting suffix appends the new
/// entries, and recovery lets an entry at index i replace every earlier entry at or after i.
public final class WriteAheadLog {
    public struct Recovered: Sendable, Equatable {
        /// The newest hard state, in the engine's encoding.
        public var hardState: [UInt8]?
        public var snapshot: (index: LogIndex, term: Term)? { snapshotValue.map { ($0[0], $0[1]) } }
        var snapshotValue: [UInt64]?
        /// Entries after the snapshot, in index order: contiguous, unless slot records left holes.
        public var entries: [Entry] = []
        /// Whether the log holds slot records, whose holes are no corruption.
        var holdsSlots = false
        /// Set when the last segment ended in a torn record, which recovery cut off.
        public var tornTail: (file: String, offset: Int)? { tornTailValue.map { ($0.file, $0.offset) } }
        var tornTailValue: TornTail?

        struct TornTail: Sendable, Equatable {
            var file: String
            var offset: Int
        }
    }

    struct Segment {
        var number: UInt64
        var name: String
        /// The highest entry index written to it, to know when a snapshot covers it.
        var lastEntryIndex: LogIndex
    }

    public let segmentBytesMax: Int
    let directory: StorageDirectory
    let preparer: SegmentPreparer
    var segments: [Segment] = []
    /// The number the next segment takes: one past the newest, or the number of an empty segment
    /// recovery dropped.
    var nextSegmentNumber: UInt64 = 1
    var file: StorageFile?
    /// Where the next write to the current segment goes: the end of what has been written.
    var writeOffset = 0
    /// The checksum of the newest record, which the next segment's header repeats to chain them.
    var checksum: UInt32 = 0
    /// Framed records not yet written to the file; they start at `writeOffset`.
    private var buffered: [UInt8] = []
    /// Bound of the buffer: past it, records are written before the next sync.
    static let bufferedBytesMax = 1 << 20
    var directoryNeedsSync = false
    /// Kept so a new segment can repeat them.
    var lastHardState: WALRecord?
    var lastSnapshotMarker: WALRecord?

    static let segmentPrefix = "segment-"
    static let segmentSuffix = ".wal"

    static func segmentName(_ number: UInt64) -> String {
        segmentPrefix + String(number).leftPadded(to: 16) + segmentSuffix
    }

    init(directory: StorageDirectory, segmentBytesMax: Int, preparesSegmentsInline: Bool) {
        precondition(segmentBytesMax >= 4096, "segments of \(segmentBytesMax) bytes are too small")
        self.directory = directory
        self.segmentBytesMax = segmentBytesMax
        self.preparer = SegmentPreparer(directory: directory, bytes: segmentBytesMax, inline: preparesSegmentsInline)
    }

    /// Opens the log in `directory`, recovering what it holds; an empty directory starts a new log.
    /// `preparesSegmentsInline` zero-fills the next segment on the caller's thread, with counted
    /// names: the simulator's deterministic disks (see `SegmentPreparer`).
    public static func open(directory: StorageDirectory, segmentBytesMax: Int = 64 << 20, preparesSegmentsInline: Bool = false) throws(StorageError) -> (WriteAheadLog, Recovered) {
        let log = WriteAheadLog(directory: directory, segmentBytesMax: segmentBytesMax, preparesSegmentsInline: preparesSegmentsInline)
        let recovered = try log.recover()
        try log.preparer.adoptLeftovers()
        if log.file == nil { try log.startSegment(previousChecksum: log.checksum) }
        try log.sync()
        return (log, recovered)
    }

    // MARK: Appending

    /// Adds records after the current ones. They are framed into a buffer and written to the file
    /// at the next sync (or once the buffer passes `bufferedBytesMax`), so a node that appends once
    /// per request still writes once per sync: one pwrite per append cost a busy leader more CPU
    /// than its fdatasyncs. They are durable after the next `sync`.
    public func append(_ records: [WALRecord]) throws(StorageError) {
        for (position, record) in records.enumerated() {
            let recordStart = buffered.count
            let recordChecksum = WALFrame.append(record, segment: segments[segments.count - 1].number, fileOffset: writeOffset + recordStart, to: &buffered)
            // A full segment gives way to a new one; a record larger than a whole segment still goes
            // into a fresh one rather than rotating forever.
            if writeOffset + buffered.count > segmentBytesMax && writeOffset + recordStart > headerRegionBytes {
                buffered.removeSubrange(recordStart...)
                try writeBufferedRecords()
                try rotate()
                return try append(Array(records[position...]))
            }
            checksum = recordChecksum
            remember(record)
        }
        if buffered.count >= Self.bufferedBytesMax { try writeBufferedRecords() }
    }

    /// Writes the buffered records to the file, without syncing.
    public func writeBufferedRecords() throws(StorageError) {
        guard !buffered.isEmpty, let file else { return }
        try file.write(buffered, at: writeOffset)
        // Zero-filling the next segment starts once this one is half full: early enough to be ready
        // at rotation, late enough that a log which never fills a segment never pays for one.
        if writeOffset < segmentBytesMax / 2 && writeOffset + buffered.count >= segmentBytesMax / 2 {
            preparer.prepareNext()
        }
        writeOffset += buffered.count
        buffered.removeAll(keepingCapacity: buffered.capacity <= Self.bufferedBytesMax)
    }

    /// Makes everything appended durable: one write, one fdatasync, plus a directory sync if
    /// segments changed.
    public func sync() throws(StorageError) {
        try syncPoint().sync()
    }

    /// Writes what is buffered and returns what makes everything appended so far durable, to be
    /// performed later, on another thread, while this log goes on appending: group commit writes
    /// one group while the previous one syncs. Appends to older segments are already durable
    /// (rotation syncs a segment before leaving it), so syncing the current file, and the
    /// directory if segments changed, is enough.
    public func syncPoint() throws(StorageError) -> SyncPoint {
        try writeBufferedRecords()
        defer { directoryNeedsSync = false }
        return SyncPoint(file: file, directory: directoryNeedsSync ? directory : nil)
    }

    /// A deferred sync. It holds its file open even after the log has moved to a new segment.
    public struct SyncPoint {
        let file: StorageFile?
        let directory: StorageDirectory?

        public func sync() throws(StorageError) {
            try file?.sync()
            try directory?.sync()
        }
    }

    /// Releases segments whose entries a durable snapshot through `index` covers: their files are
    /// kept for reuse as later segments, or deleted. The current segment always stays.
    public func releaseSegments(coveredBy index: LogIndex) throws(StorageError) {
        while segments.count > 1, segments[0].lastEntryIndex <= index {
            try preparer.recycle(segments[0].name)
            segments.removeFirst()
            directoryNeedsSync = true
        }
    }

    public var segmentCount: Int { segments.count }

    /// Why the next segment could not be prepared (a full disk), if it could not: appends then fit
    /// only in what is left of the current segment, half of it at least, since preparation starts
    /// when the current one is half full. `retryNextSegment` tries again.
    public var nextSegmentFailure: StorageError? { preparer.failure }

    public func retryNextSegment() { preparer.retryAfterFailure() }

    /// Where a record larger than a whole segment may start: after a fresh segment's preamble.
    var headerRegionBytes: Int { 256 }

    private func remember(_ record: WALRecord) {
        switch record {
        case .hardState: lastHardState = record
        case .snapshotMarker: lastSnapshotMarker = record
        case .entry(let entry), .slot(let entry): segments[segments.count - 1].lastEntryIndex = max(segments[segments.count - 1].lastEntryIndex, entry.index)
        case .segmentHeader, .truncate: break
        }
    }

    private func rotate() throws(StorageError) {
        try file?.sync()
        // Not closed here: a sync point taken earlier may still hold it. The last reference closes it.
        file = nil
        try startSegment(previousChecksum: checksum)
    }

    /// Starts a prepared segment: header, then the metadata the log needs.
    private func startSegment(previousChecksum: UInt32) throws(StorageError) {
        let number = nextSegmentNumber
        nextSegmentNumber += 1
        let name = Self.segmentName(number)
        file = try preparer.take(as: name)
        writeOffset = 0
        segments.append(Segment(number: number, name: name, lastEntryIndex: 0))
        directoryNeedsSync = true
        var preamble: [WALRecord] = [.segmentHeader(previousChecksum: previousChecksum, segmentNumber: number)]
        if let lastSnapshotMarker { preamble.append(lastSnapshotMarker) }
        if let lastHardState { preamble.append(lastHardState) }
        try append(preamble)
    }
}
