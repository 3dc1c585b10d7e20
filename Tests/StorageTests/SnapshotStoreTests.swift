import ConsensusCore
import Raft
import Storage
import Testing

@Suite struct SnapshotStoreTests {
    func snapshot(_ index: LogIndex, _ text: String) -> Snapshot {
        Snapshot(
            metadata: SnapshotMetadata(index: index, term: 2, membership: Membership(voters: [NodeID(1), NodeID(2)], learners: [NodeID(3)])),
            data: Array(text.utf8)
        )
    }

    @Test func theNewestSnapshotRoundTripsAndOlderOnesArePruned() throws {
        let directory = FaultyDirectory(seed: 1)
        let store = SnapshotStore(directory: directory, keepCount: 2)
        #expect(try store.loadNewest() == nil)
        for index in [10, 20, 30] as [LogIndex] { try store.save(snapshot(index, "state at \(index)")) }
        #expect(try store.loadNewest() == snapshot(30, "state at 30"))
        #expect(try directory.list().count == 2)
    }

    /// The node saves its own snapshot off its loop before the engine persists it: persisting it
    /// then finds it on disk and does not write it again, and recovery finds both the snapshot and
    /// the log after it.
    @Test func aSnapshotSavedAheadIsNotWrittenAgain() throws {
        let directory = FaultyDirectory(seed: 3)
        var storage = try DiskStorage<RaftHardState>(directory: directory, initial: RaftHardState(), segmentBytesMax: 4096)
        let saved = snapshot(10, "state at 10")
        #expect(try !storage.snapshots.holds(saved.metadata))
        try storage.snapshots.save(saved)
        #expect(try storage.snapshots.holds(saved.metadata))
        let syncsBefore = directory.syncCount
        try storage.write(PersistRequest(hardState: nil, entries: [], snapshot: saved, discardEntriesThrough: 10))
        // Saving a snapshot syncs its file and the directory; writing the log's marker syncs nothing.
        #expect(directory.syncCount == syncsBefore, "the snapshot was saved a second time")
        try storage.sync()
        directory.crash()
        let recovered = try DiskStorage<RaftHardState>(directory: directory, initial: RaftHardState(), segmentBytesMax: 4096)
        #expect(recovered.durableState.snapshot == saved)
    }

    /// A crash in the middle of a save leaves the previous snapshot in force.
    @Test func aCrashDuringASaveKeepsThePreviousSnapshot() throws {
        for seed in 0..<20 as Range<UInt64> {
            let directory = FaultyDirectory(seed: seed)
            let store = SnapshotStore(directory: directory)
            try store.save(snapshot(10, "old"))
            let file = try directory.open("snapshot-00000000000000000020-00000000000000000002.snap.tmp", create: true)
            try file.write(Array("half a snapsh".utf8), at: 0)
            directory.crash()
            #expect(try store.loadNewest() == snapshot(10, "old"))
            #expect(try directory.list().allSatisfy { !$0.hasSuffix(".tmp") })
        }
    }

    @Test func aDamagedSnapshotIsAnErrorNamingIt() throws {
        let directory = FaultyDirectory(seed: 2)
        let store = SnapshotStore(directory: directory)
        try store.save(snapshot(10, "some state"))
        let name = try directory.list().first!
        directory.flipBit(in: name, at: 40)
        #expect(throws: StorageError.corruptSnapshot(file: name, reason: "checksum mismatch")) { try store.loadNewest() }
    }
}
