import ConsensusCore

/// A node's disk, modelled honestly: writes land in a volatile buffer and only `sync` makes them
/// durable. A crash keeps what was synced, plus possibly a prefix of what was not, in write order
/// (snapshot, discards, entries, hard state), as a real page cache might have flushed part of it. A
/// snapshot write is atomic (temporary file and rename), so it survives whole or not at all.
public struct SimulatedStorage<HardState: Sendable & Equatable>: Sendable, ReplicaStorage {
    public internal(set) var hardState: HardState
    public internal(set) var snapshot: Snapshot?
    /// Entries after `offsetIndex`.
    public internal(set) var entries: [Entry] = []
    public internal(set) var offsetIndex: LogIndex = 0
    public internal(set) var offsetTerm: Term = 0
    /// The prefix digest through `offsetIndex`.
    var offsetDigest: UInt64 = 0
    /// prefixDigests[i] summarises the log through entries[i]; equal digests mean equal log prefixes.
    /// The log-matching checker compares these instead of whole logs.
    var prefixDigests: [UInt64] = []

    /// Entries written at their own index (`PersistRequest.slots`), in index order, holes allowed.
    /// Kept apart from `entries` (the contiguous log the log-matching checker digests); an engine
    /// writes one or the other.
    public internal(set) var slotEntries: [Entry] = []

    /// Writes accepted but not yet synced, in write order. More than one only when a leader's writes
    /// overlap its sends (`PersistRequest.overlapsSends`); a sync makes all of them durable.
    var pending: [PendingWrite] = []

    struct PendingWrite {
        var request: PersistRequest<HardState>
        /// The committed prefix digest at the snapshot's index, for the log it replaces.
        var snapshotDigest: UInt64
    }

    /// A bit flipped in an old record: the log's checksums will catch it when the node next starts,
    /// and the node must refuse to (as `WriteAheadLog` recovery does on a real disk).
    public var isCorrupted = false

    public init(hardState: HardState) {
        self.hardState = hardState
    }

    /// The model of a disk that holds `durable`, all of it synced: what a node's write-ahead log
    /// recovered after a crash (`WALDisk`). Entries contiguous from the snapshot on form the log;
    /// any after a hole are slot entries. `snapshotPrefixDigest` is the committed log's digest at
    /// the snapshot's index.
    public init(restoring durable: DurableState<HardState>, snapshotPrefixDigest: UInt64) {
        self.init(hardState: durable.hardState)
        let first = (durable.snapshot?.metadata.index ?? 0) + 1
        var contiguous = 0
        while contiguous < durable.entries.count, durable.entries[contiguous].index == first + LogIndex(contiguous) { contiguous += 1 }
        let request = PersistRequest(
            hardState: durable.hardState, entries: Array(durable.entries.prefix(contiguous)), snapshot: durable.snapshot,
            slots: Array(durable.entries.dropFirst(contiguous))
        )
        write(request, snapshotPrefixDigest: snapshotPrefixDigest)
        sync()
    }

    public var lastIndex: LogIndex { offsetIndex + LogIndex(entries.count) }

    /// Writes accepted and not yet synced, in write order: what a crash may lose.
    public var unsyncedRequests: [PersistRequest<HardState>] { pending.map { $0.request } }

    public var hasUnsyncedWrites: Bool { !pending.isEmpty }

    /// Whether a write not yet synced holds the entry at `index` of `term`.
    public func hasUnsyncedEntry(at index: LogIndex, term: Term) -> Bool {
        pending.contains { write in write.request.entries.contains { $0.index == index && $0.term == term } }
    }

    public func term(at index: LogIndex) -> Term? {
        if index == offsetIndex { return offsetTerm }
        guard index > offsetIndex, index <= lastIndex else { return nil }
        return entries[Int(index - offsetIndex) - 1].term
    }

    public func prefixDigest(at index: LogIndex) -> UInt64? {
        if index == offsetIndex { return offsetDigest }
        guard index > offsetIndex, index <= lastIndex else { return nil }
        return prefixDigests[Int(index - offsetIndex) - 1]
    }

    public var durableState: DurableState<HardState> {
        guard !slotEntries.isEmpty else { return DurableState(hardState: hardState, entries: entries, snapshot: snapshot) }
        var merged = entries
        for slot in slotEntries { merged.placeSlot(slot) }
        return DurableState(hardState: hardState, entries: merged, snapshot: snapshot)
    }

    /// Buffers a write. `snapshotPrefixDigest` is the digest of the committed log prefix through the
    /// request's snapshot, which the storage cannot compute itself when the snapshot replaces its log.
    public mutating func write(_ request: PersistRequest<HardState>) {
        write(request, snapshotPrefixDigest: 0)
    }

    public mutating func write(_ request: PersistRequest<HardState>, snapshotPrefixDigest: UInt64) {
        precondition(pending.isEmpty || pending.allSatisfy { $0.request.overlapsSends }, "a write began before the previous one was synced")
        pending.append(PendingWrite(request: request, snapshotDigest: snapshotPrefixDigest))
    }

    public mutating func sync() {
        for write in pending { keepWhole(write) }
        pending.removeAll()
    }

    mutating func keepWhole(_ write: PendingWrite) {
        keep(write, entryCount: write.request.entries.count, slotCount: write.request.slots.count, hardState: true, snapshot: true)
    }

    /// A crash: unsynced writes are lost, except perhaps a prefix of them chosen by `random`. Writes
    /// reach the disk in order, so some may survive whole, then one torn, and none after it.
    public mutating func crash(random: inout SeededRandom) {
        guard !pending.isEmpty else { return }
        let whole = pending.count > 1 ? random.int(in: 0..<pending.count) : 0
        for write in pending.prefix(whole) { keepWhole(write) }
        let torn = pending[whole]
        pending.removeAll()
        let request = torn.request
        let snapshotSurvives = random.chance(0.5)
        let survivingEntries = snapshotSurvives || request.snapshot == nil ? random.int(in: 0..<(request.entries.count + 1)) : 0
        let allEntries = survivingEntries == request.entries.count && (snapshotSurvives || request.snapshot == nil)
        let survivingSlots = allEntries ? random.int(in: 0..<(request.slots.count + 1)) : 0
        let hardStateSurvives = allEntries && survivingSlots == request.slots.count && random.chance(0.5)
        keep(torn, entryCount: survivingEntries, slotCount: survivingSlots, hardState: hardStateSurvives, snapshot: snapshotSurvives)
    }

    mutating func keep(_ write: PendingWrite, entryCount: Int, slotCount: Int, hardState keepHardState: Bool, snapshot keepSnapshot: Bool) {
        let request = write.request
        if keepSnapshot || request.snapshot == nil {
            if let newSnapshot = request.snapshot {
                snapshot = newSnapshot
                if request.truncateEntriesAfter != nil || newSnapshot.metadata.index > lastIndex {
                    // The log disagrees with the snapshot or ends before it: the snapshot replaces it.
                    entries = []
                    prefixDigests = []
                    offsetIndex = newSnapshot.metadata.index
                    offsetTerm = newSnapshot.metadata.term
                    offsetDigest = write.snapshotDigest
                }
                slotEntries.removeFirst(slotEntries.position(after: newSnapshot.metadata.index))
            }
            if let after = request.truncateEntriesAfter { slotEntries.removeSubrange(slotEntries.position(after: after)...) }
            if let through = request.discardEntriesThrough { slotEntries.removeFirst(slotEntries.position(after: through)) }
            if let through = request.discardEntriesThrough, through > offsetIndex {
                let count = Int(through - offsetIndex)
                offsetDigest = prefixDigests[count - 1]
                offsetTerm = entries[count - 1].term
                entries.removeFirst(count)
                prefixDigests.removeFirst(count)
                offsetIndex = through
            }
        } else {
            return  // Nothing after a lost snapshot write reached the disk.
        }
        if entryCount > 0 {
            let first = request.entries[0].index
            precondition(first > offsetIndex && first <= lastIndex + 1, "write of \(first) leaves a gap after \(lastIndex) or overwrites the snapshot at \(offsetIndex)")
            truncate(after: first - 1)
            for entry in request.entries.prefix(entryCount) {
                precondition(entry.index == lastIndex + 1, "non-contiguous write of \(entry.index) after \(lastIndex)")
                let previous = prefixDigests.last ?? offsetDigest
                entries.append(entry)
                prefixDigests.append(Digest.combine(previous, Digest.of(entry)))
            }
        }
        for slot in request.slots.prefix(slotCount) where slot.index > offsetIndex { slotEntries.placeSlot(slot) }
        if keepHardState, let newHardState = request.hardState { hardState = newHardState }
    }

    mutating func truncate(after index: LogIndex) {
        guard index < lastIndex else { return }
        let keep = Int(index - offsetIndex)
        entries.removeSubrange(keep...)
        prefixDigests.removeSubrange(keep...)
    }
}

/// A small non-cryptographic digest (FNV-1a over 64 bits), stable across processes unlike `Hasher`,
/// so traces and checkers give the same answer on every run of a seed.
public enum Digest {
    public static let offset: UInt64 = 0xcbf2_9ce4_8422_2325

    public static func combine(_ digest: UInt64, _ value: UInt64) -> UInt64 {
        var result = digest
        var remaining = value
        for _ in 0..<8 {
            result = (result ^ (remaining & 0xff)) &* 0x0000_0100_0000_01b3
            remaining >>= 8
        }
        return result
    }

    public static func of(_ bytes: [UInt8], seed: UInt64 = offset) -> UInt64 {
        var result = seed
        for byte in bytes { result = (result ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return result
    }

    public static func of(_ string: String, seed: UInt64 = offset) -> UInt64 {
        var result = seed
        for byte in string.utf8 { result = (result ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return result
    }

    public static func of(_ entry: Entry) -> UInt64 {
        combine(combine(of(entry.data), entry.term), UInt64(entry.kind.rawValue))
    }
}
