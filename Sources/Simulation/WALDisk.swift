import ConsensusCore
import Storage

/// A simulated node's disk as a real node has it: `DiskStorage` (the write-ahead log and snapshot
/// files `synod serve` writes) over a `FaultyDirectory`, beside the simulator's model of the disk
/// (`SimulatedStorage`), which the checkers read. Every write and sync goes to both. At a crash the
/// directory loses what a power cut loses (unsynced bytes, a torn last write, names no directory
/// sync made durable); the log is then recovered as a restarting node recovers it, checked to hold
/// everything the model had synced, and what it recovered becomes the model. A seed replays
/// exactly: the directory's faults come from its own seeded generator, and the log prepares its
/// segments inline (`SegmentPreparer`).
package final class WALDisk<HardState: Sendable & Equatable & DurableCoding> {
    /// Small segments, so a run rotates, releases and recycles them many times.
    package static var segmentBytes: Int { 16 << 10 }

    package let directory: FaultyDirectory
    internal(set) var storage: DiskStorage<HardState>
    let initial: HardState

    package init(seed: UInt64, initial: HardState) throws(StorageError) {
        directory = FaultyDirectory(seed: seed)
        self.initial = initial
        storage = try DiskStorage(directory: directory, initial: initial, segmentBytesMax: Self.segmentBytes, deterministic: true)
    }

    package func write(_ request: PersistRequest<HardState>) throws(StorageError) { try storage.write(request) }
    package func sync() throws(StorageError) { try storage.sync() }

    /// A power cut, then recovery as the next process runs it: what the disk holds now.
    package func crashAndRecover() throws(StorageError) -> DurableState<HardState> {
        directory.crash()
        storage = try DiskStorage(directory: directory, initial: initial, segmentBytesMax: Self.segmentBytes, deterministic: true)
        return storage.durableState
    }

    /// Whether the log could not prepare its next segment for want of room: appends still fit
    /// in the current one, and the node's services refuse writes meanwhile.
    package var isOutOfSpace: Bool { storage.spaceProblem != nil }

    /// Whether the disk was filled (`fill`) and not yet given room again.
    package var isFilled: Bool { directory.capacityBytes != .max }

    /// The disk fills up: from now on it takes at most `room` more bytes.
    package func fill(leavingRoom room: Int) {
        directory.capacityBytes = directory.bytesInUse + room
    }

    /// The operator freed space: the disk takes writes again, and the log retries the segment it
    /// could not prepare, as a node's loop does every `spaceRetryInterval`.
    package func makeRoom() {
        directory.capacityBytes = .max
        storage.retrySpace()
    }

    /// Whether the log has a segment older than the one it appends to.
    package var hasSealedSegments: Bool { (try? WriteAheadLog.sealedRecordSpans(in: directory).isEmpty) == false }

    /// Flips one bit of an old record: one in a segment sealed before the current one, whose
    /// damage recovery must refuse rather than cut off as a torn write. Returns the file and
    /// offset, or nil while the log has only one segment.
    package func flipBitInOldRecord(random: inout SeededRandom) -> (file: String, offset: Int)? {
        guard let spans = try? WriteAheadLog.sealedRecordSpans(in: directory), !spans.isEmpty else { return nil }
        let span = spans[random.int(in: 0..<spans.count)]
        let offset = random.int(in: span.records)
        directory.flipBit(in: span.file, at: offset, bit: random.int(in: 0..<8))
        return (span.file, offset)
    }

    /// Recovery as the next process runs it, from what the disk holds now (no power cut first):
    /// the error it stops with, or nil when it recovered (and the log is open again).
    package func recoveryRefusal() -> StorageError? {
        do {
            storage = try DiskStorage(directory: directory, initial: initial, segmentBytesMax: Self.segmentBytes, deterministic: true)
            return nil
        } catch {
            return error
        }
    }

    /// What recovery lost or invented, given what was synced and what was written since; nil when
    /// `recovered` is a state the crash could have left. A crash may keep any prefix of the writes
    /// since the last sync, so an entry counts as lost only if no such write could have removed it.
    package static func lossAfterCrash(
        synced: DurableState<HardState>, unsynced: [PersistRequest<HardState>], recovered: DurableState<HardState>
    ) -> String? {
        let recoveredSnapshot = recovered.snapshot?.metadata.index ?? 0
        if let syncedSnapshot = synced.snapshot?.metadata.index, syncedSnapshot > recoveredSnapshot {
            return "recovery found snapshot \(recoveredSnapshot), older than the synced \(syncedSnapshot)"
        }
        if recovered.hardState != synced.hardState, !unsynced.contains(where: { $0.hardState == recovered.hardState }) {
            return "recovery found hard state \(recovered.hardState), never written (synced \(synced.hardState))"
        }
        var next = recoveredSnapshot + 1
        for entry in recovered.entries {
            guard entry.index == next else {
                return "recovery found a hole before entry \(entry.index) after snapshot \(recoveredSnapshot)"
            }
            next += 1
        }
        // Entries up to here stay unless a later write truncated or overwrote them.
        var floor = LogIndex.max
        for request in unsynced {
            if let after = request.truncateEntriesAfter { floor = min(floor, after) }
            if let first = request.entries.first { floor = min(floor, first.index - 1) }
            if let first = request.slots.first { floor = min(floor, first.index - 1) }
        }
        let recoveredFirst = recovered.entries.first?.index ?? next
        for entry in synced.entries where entry.index > recoveredSnapshot && entry.index <= floor {
            let position = Int(entry.index - recoveredFirst)
            guard position >= 0, position < recovered.entries.count, recovered.entries[position] == entry else {
                return "synced entry \(entry.index) of term \(entry.term) was lost (recovered \(recovered.entries.count) entries after snapshot \(recoveredSnapshot))"
            }
        }
        return nil
    }
}
