import ConsensusCore
import Node
import Raft
import RaftTestKit
import RaftWire

extension RaftEngine: ServableEngine {
    // `emptyHardState` is the simulator conformance's (RaftTestKit).

    public static func hardState(restoredAt index: LogIndex, term: Term) -> RaftHardState {
        RaftHardState(term: term, vote: nil, commit: index)
    }

    public static func serving(
        id: NodeID, voters: [NodeID], settings: NodeEngineSettings, random: SeededRandom, restoring: DurableState<RaftHardState>
    ) -> RaftEngine {
        var raft = RaftConfiguration(id: id, voters: voters)
        // A tick is one heartbeat interval.
        raft.heartbeatIntervalTicks = 1
        raft.electionTimeoutTicks = settings.electionTimeoutTicks
        raft.snapshotEntriesThreshold = settings.snapshotEntriesThreshold
        raft.compactionRetainEntries = settings.compactionRetainEntries
        raft.proposalBytesMax = settings.proposalBytesMax
        // The leader replicates while its own disk syncs (Raft thesis §10.2.1); see ReplicaLoop.
        raft.overlapWritesWithSends = true
        raft.strictReconfigurationCheck = settings.strictReconfigurationCheck
        var engine = RaftEngine(configuration: raft, random: random, restoring: restoring)
        engine.acceptsSnapshot = settings.acceptsSnapshot
        return engine
    }
}
