import ConsensusCore
import Raft
import RaftTestKit
import Simulation
import Storage
import Testing

/// The same requests, given to the simulator's storage and to the disk storage, must leave the same
/// durable state: that is what lets engines move between the two worlds unchanged.
@Suite struct ReplicaStorageContractTests {
    static func entry(_ index: LogIndex, term: Term = 1) -> Entry { Entry(index: index, term: term, data: Array("e\(index)t\(term)".utf8)) }
    static let membership = Membership(voters: [NodeID(1), NodeID(2), NodeID(3)])

    /// A sequence of requests exercising every field of `PersistRequest`.
    static let script: [PersistRequest<RaftHardState>] = [
        PersistRequest(hardState: RaftHardState(term: 1, vote: NodeID(1), commit: 0), entries: (1...5).map { entry($0) }),
        PersistRequest(hardState: RaftHardState(term: 2, vote: NodeID(2), commit: 3), entries: [entry(4, term: 2), entry(5, term: 2)]),
        PersistRequest(
            hardState: nil, entries: [],
            snapshot: Snapshot(metadata: SnapshotMetadata(index: 3, term: 1, membership: membership), data: Array("state@3".utf8)),
            discardEntriesThrough: 2
        ),
        PersistRequest(hardState: RaftHardState(term: 2, vote: NodeID(2), commit: 6), entries: [entry(6, term: 2)]),
        PersistRequest(
            hardState: RaftHardState(term: 3, vote: nil, commit: 9), entries: [],
            snapshot: Snapshot(metadata: SnapshotMetadata(index: 9, term: 3, membership: membership), data: Array("state@9".utf8)),
            discardEntriesThrough: 9, truncateEntriesAfter: 9
        ),
        PersistRequest(hardState: nil, entries: [entry(10, term: 3), entry(11, term: 3)]),
    ]

    /// Entries at or below the snapshot are ignored by engines, so they are not compared.
    static func normalized(_ state: DurableState<RaftHardState>) -> (RaftHardState, Snapshot?, [Entry]) {
        let floor = state.snapshot?.metadata.index ?? 0
        return (state.hardState, state.snapshot, state.entries.filter { $0.index > floor })
    }

    @Test func simulatedAndDiskStorageAgreeAfterEveryStep() throws {
        var simulated = SimulatedStorage(hardState: RaftHardState())
        let directory = FaultyDirectory(seed: 1)
        var disk = try DiskStorage(directory: directory, initial: RaftHardState(), segmentBytesMax: 4096)
        for (step, request) in Self.script.enumerated() {
            simulated.write(request)
            simulated.sync()
            try disk.write(request)
            try disk.sync()
            let expected = Self.normalized(simulated.durableState)
            let live = Self.normalized(disk.durableState)
            #expect(live.0 == expected.0 && live.1 == expected.1 && live.2 == expected.2, "step \(step): live disk state differs")
            // And what a restart would read back from the disk agrees as well.
            directory.crash()
            let reopened = Self.normalized(try DiskStorage(directory: directory, initial: RaftHardState(), segmentBytesMax: 4096).durableState)
            #expect(reopened.0 == expected.0 && reopened.1 == expected.1 && reopened.2 == expected.2, "step \(step): recovered state differs")
            disk = try DiskStorage(directory: directory, initial: RaftHardState(), segmentBytesMax: 4096)
        }
    }

    /// An engine persists through disk storage exactly as through the simulator's, and restarts from it.
    @Test func aRaftEngineRestartsFromDiskStorage() throws {
        let directory = FaultyDirectory(seed: 2)
        var storage = try DiskStorage(directory: directory, initial: RaftHardState(), segmentBytesMax: 4096)
        var configuration = RaftConfiguration(id: NodeID(1), voters: [NodeID(1)])
        configuration.snapshotEntriesThreshold = 1_000_000
        var engine = RaftEngine(configuration: configuration, random: SeededRandom(seed: 1))
        func perform(_ actions: [RaftAction]) throws {
            for case .persist(let request) in actions {
                try storage.write(request)
                try storage.sync()
            }
        }
        try perform(engine.campaignNow())
        for index in 0..<50 { try perform(engine.step(.propose(RequestID(UInt64(index)), Array("command \(index)".utf8)))) }
        let before = (engine.term, engine.commitIndex, engine.log.lastIndex)
        directory.crash()
        let reopened = try DiskStorage<RaftHardState>(directory: directory, initial: RaftHardState(), segmentBytesMax: 4096)
        let restarted = RaftEngine(configuration: configuration, random: SeededRandom(seed: 2), restoring: reopened.durableState)
        #expect((restarted.term, restarted.commitIndex, restarted.log.lastIndex) == before)
        #expect(restarted.log.entry(at: 51)?.data == Array("command 49".utf8))
    }

    @Test func hardStateEncodingRoundTripsAndRefusesGarbage() {
        let state = RaftHardState(term: 7, vote: NodeID(3), commit: 42)
        #expect(RaftHardState(durableBytes: state.durableBytes) == state)
        #expect(RaftHardState(durableBytes: RaftHardState().durableBytes) == RaftHardState())
        #expect(RaftHardState(durableBytes: [1, 2, 3]) == nil)
    }
}

/// Slot writes (`PersistRequest.slots`), as a Multi-Paxos acceptor makes them: out of order, with
/// holes, a slot rewritten at a higher ballot. Both storages keep the same sparse log, and the disk
/// recovers it across restarts (a hole is no corruption).
@Suite struct SlotPersistContractTests {
    static func slot(_ index: LogIndex, ballot: Term) -> Entry { Entry(index: index, term: ballot, data: Array("s\(index)b\(ballot)".utf8)) }
    static let membership = Membership(voters: [NodeID(1)])

    static let script: [PersistRequest<RaftHardState>] = [
        PersistRequest(hardState: RaftHardState(term: 1, vote: nil, commit: 0), entries: [], slots: [slot(5, ballot: 1), slot(2, ballot: 1)]),
        PersistRequest(hardState: nil, entries: [], slots: [slot(9, ballot: 1)]),
        PersistRequest(hardState: RaftHardState(term: 2, vote: nil, commit: 0), entries: [], slots: [slot(5, ballot: 2), slot(3, ballot: 2)]),
        PersistRequest(hardState: nil, entries: [], truncateEntriesAfter: 8),
        PersistRequest(
            hardState: nil, entries: [],
            snapshot: Snapshot(metadata: SnapshotMetadata(index: 2, term: 1, membership: membership), data: Array("state@2".utf8)),
            discardEntriesThrough: 2),
        PersistRequest(hardState: nil, entries: [], slots: [slot(12, ballot: 3)]),
    ]

    static let expectedIndexes: [[LogIndex]] = [[2, 5], [2, 5, 9], [2, 3, 5, 9], [2, 3, 5], [3, 5], [3, 5, 12]]

    @Test func bothStoragesKeepTheSameSparseLogAndTheDiskRecoversIt() throws {
        var simulated = SimulatedStorage(hardState: RaftHardState())
        let directory = FaultyDirectory(seed: 3)
        var disk = try DiskStorage(directory: directory, initial: RaftHardState(), segmentBytesMax: 4096)
        for (step, request) in Self.script.enumerated() {
            simulated.write(request)
            simulated.sync()
            try disk.write(request)
            try disk.sync()
            let expected = ReplicaStorageContractTests.normalized(simulated.durableState)
            #expect(expected.2.map(\.index) == Self.expectedIndexes[step], "step \(step)")
            let live = ReplicaStorageContractTests.normalized(disk.durableState)
            #expect(live.0 == expected.0 && live.1 == expected.1 && live.2 == expected.2, "step \(step): live disk state differs")
            directory.crash()
            let reopened = ReplicaStorageContractTests.normalized(try DiskStorage(directory: directory, initial: RaftHardState(), segmentBytesMax: 4096).durableState)
            #expect(reopened.0 == expected.0 && reopened.1 == expected.1 && reopened.2 == expected.2, "step \(step): recovered state differs")
            disk = try DiskStorage(directory: directory, initial: RaftHardState(), segmentBytesMax: 4096)
        }
        // The rewrite at a higher ballot won.
        #expect(simulated.durableState.entries.first { $0.index == 5 }?.term == 2)
    }

    /// A crash keeps synced slots and at most a prefix of the unsynced ones, never a later one alone.
    @Test func aCrashKeepsSyncedSlotsAndAPrefixOfTheRest() {
        for seed in UInt64(0)..<200 {
            var storage = SimulatedStorage(hardState: RaftHardState())
            storage.write(PersistRequest(hardState: nil, entries: [], slots: [Self.slot(4, ballot: 1)]))
            storage.sync()
            storage.write(PersistRequest(hardState: nil, entries: [], slots: [Self.slot(7, ballot: 1), Self.slot(8, ballot: 1), Self.slot(1, ballot: 1)]))
            var random = SeededRandom(seed: seed)
            storage.crash(random: &random)
            let indexes = storage.durableState.entries.map(\.index)
            #expect(indexes.contains(4), "seed \(seed)")
            let survivors = indexes.filter { $0 != 4 }
            #expect([[], [7], [7, 8], [1, 7, 8]].contains(survivors), "seed \(seed): \(indexes)")
        }
    }
}

@Suite struct EntryPositionTests {
    @Test func positionsAgreeWithALinearScanWithAndWithoutHoles() {
        let contiguous = (3...9).map { Entry(index: LogIndex($0), term: 1) }
        let sparse = [2, 3, 7, 8, 20].map { Entry(index: LogIndex($0), term: 1) }
        for entries in [contiguous, sparse, []] {
            for index in LogIndex(0)...25 {
                #expect(entries.position(after: index) == (entries.firstIndex { $0.index > index } ?? entries.count), "after \(index)")
            }
        }
    }
}
