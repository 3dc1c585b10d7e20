import ConsensusCore
import Raft
import RaftTestKit
import Simulation
import Testing

@Suite struct SimulatedStorageTests {
    func entry(_ index: LogIndex, term: Term = 1) -> Entry { Entry(index: index, term: term, data: Array("e\(index)".utf8)) }

    @Test func syncedWritesSurviveACrash() {
        var storage = SimulatedStorage(hardState: RaftHardState())
        var random = SeededRandom(seed: 1)
        storage.write(PersistRequest(hardState: RaftHardState(term: 2, vote: NodeID(1), commit: 0), entries: [entry(1), entry(2)]))
        storage.sync()
        storage.crash(random: &random)
        #expect(storage.lastIndex == 2)
        #expect(storage.hardState.term == 2)
    }

    @Test func unsyncedWritesLeaveAtMostAPrefixAndNeverAHardStateAheadOfItsEntries() {
        var sawLoss = false
        for seed in 0..<50 as Range<UInt64> {
            var storage = SimulatedStorage(hardState: RaftHardState())
            var random = SeededRandom(seed: seed)
            storage.write(PersistRequest(hardState: RaftHardState(term: 1, vote: nil, commit: 0), entries: [entry(1)]))
            storage.sync()
            storage.write(PersistRequest(hardState: RaftHardState(term: 1, vote: nil, commit: 3), entries: [entry(2), entry(3)]))
            storage.crash(random: &random)
            #expect(storage.lastIndex >= 1 && storage.lastIndex <= 3)
            #expect(storage.hardState.commit <= storage.lastIndex)
            if storage.lastIndex < 3 { sawLoss = true }
        }
        #expect(sawLoss, "a crash never lost unsynced data")
    }

    @Test func overwritingATailReplacesIt() {
        var storage = SimulatedStorage(hardState: RaftHardState())
        storage.write(PersistRequest(hardState: nil, entries: [entry(1), entry(2), entry(3)]))
        storage.sync()
        let before = storage.prefixDigest(at: 1)
        storage.write(PersistRequest(hardState: nil, entries: [entry(2, term: 2)]))
        storage.sync()
        #expect(storage.lastIndex == 2)
        #expect(storage.term(at: 2) == 2)
        #expect(storage.prefixDigest(at: 1) == before)
    }
}
