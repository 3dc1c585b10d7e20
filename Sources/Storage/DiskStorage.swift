import ConsensusCore

/// An engine's durable state on disk: a `WriteAheadLog` for entries and hard state, and a
/// `SnapshotStore` for snapshots. It implements `ReplicaStorage`, the interface the simulator's
/// in-memory storage implements too.
public struct DiskStorage<HardState: Sendable & Equatable & DurableCoding>: ReplicaStorage {
    public let log: WriteAheadLog
    public let snapshots: SnapshotStore
    public private(set) var durableState: DurableState<HardState>
    /// What `write` accepted and `sync` has not yet made durable, folded into `durableState` then.
    private var unsynced: [PersistRequest<HardState>] = []
    /// Set when recovery cut a torn record off the log's tail.
    public let tornTail: (file: String, offset: Int)?

    /// Opens the storage in `directory`, recovering what it holds, or starts empty with `initial`.
    /// `deterministic` keeps all work on the caller's thread (`WriteAheadLog.open`), for the simulator.
    public init(directory: StorageDirectory, initial: HardState, segmentBytesMax: Int = 64 << 20, deterministic: Bool = false) throws(StorageError) {
        let (log, recovered) = try WriteAheadLog.open(directory: directory, segmentBytesMax: segmentBytesMax, preparesSegmentsInline: deterministic)
        self.log = log
        self.snapshots = SnapshotStore(directory: directory)
        self.tornTail = recovered.tornTail
        let snapshot = try snapshots.loadNewest()
        var hardState = initial
        if let bytes = recovered.hardState {
            guard let decoded = HardState(durableBytes: bytes) else {
                throw .corruptRecord(file: directory.path, offset: 0, reason: .malformedPayload("undecodable hard state"))
            }
            hardState = decoded
        }
        let snapshotIndex = snapshot?.metadata.index ?? 0
        durableState = DurableState(hardState: hardState, entries: recovered.entries.filter { $0.index > snapshotIndex }, snapshot: snapshot)
    }

    public mutating func write(_ request: PersistRequest<HardState>) throws(StorageError) {
        // A snapshot file is written, synced and renamed before the log mentions it, so a marker
        // never points at a snapshot that is not there. The node saves its own snapshots before
        // they reach the engine, off its loop; a snapshot from the leader is saved here.
        if let snapshot = request.snapshot, try !snapshots.holds(snapshot.metadata) { try snapshots.save(snapshot) }
        var records: [WALRecord] = []
        if let snapshot = request.snapshot { records.append(.snapshotMarker(index: snapshot.metadata.index, term: snapshot.metadata.term)) }
        if let after = request.truncateEntriesAfter { records.append(.truncate(after: after)) }
        records += request.entries.map { .entry($0) }
        records += request.slots.map { .slot($0) }
        if let hardState = request.hardState { records.append(.hardState(hardState.durableBytes)) }
        try log.append(records)
        unsynced.append(request)
    }

    /// See `WriteAheadLog.nextSegmentFailure`.
    public var spaceProblem: StorageError? { log.nextSegmentFailure }
    public func retrySpace() { log.retryNextSegment() }

    public mutating func sync() throws(StorageError) {
        try log.sync()
        for request in unsynced { fold(request) }
        unsynced = []
        if let snapshot = durableState.snapshot { try log.releaseSegments(coveredBy: snapshot.metadata.index) }
    }

    /// Found by arithmetic when the entries are contiguous, and by binary search when slot writes
    /// left holes: this runs on every write of a busy node.
    private mutating func removeEntries(after index: LogIndex) {
        let keep = durableState.entries.position(after: index)
        if keep < durableState.entries.count { durableState.entries.removeSubrange(keep...) }
    }

    /// Applies a durable request to the in-memory picture, mirroring what recovery would rebuild.
    private mutating func fold(_ request: PersistRequest<HardState>) {
        if let snapshot = request.snapshot {
            durableState.snapshot = snapshot
            durableState.entries.removeAll { $0.index <= snapshot.metadata.index }
        }
        if let after = request.truncateEntriesAfter { removeEntries(after: after) }
        if let through = request.discardEntriesThrough {
            durableState.entries.removeFirst(durableState.entries.position(after: through))
        }
        if let first = request.entries.first {
            removeEntries(after: first.index - 1)
            durableState.entries += request.entries
        }
        for slot in request.slots { durableState.entries.placeSlot(slot) }
        if let hardState = request.hardState { durableState.hardState = hardState }
    }
}
