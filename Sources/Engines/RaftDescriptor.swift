import ConsensusCore
import EtcdServer
import Raft
import RaftTestKit
import RaftWire
import Simulation

extension EngineDescriptor {
    /// Raft (Ongaro's thesis): pre-vote, joint consensus and learners, leadership transfer,
    /// ReadIndex and lease reads, snapshots sent in chunks.
    public static let raft = EngineDescriptor(
        name: "raft",
        summary: "Raft with pre-vote, joint consensus, learners, leadership transfer, ReadIndex and lease reads",
        capabilities: [.membershipChanges, .learners, .leadershipTransfer, .quorumReads, .leaseReads],
        safetyProperties: RaftEngine.safetyProperties,
        quorumKinds: [.majority],
        wireMessage: RaftMessage.self,
        simulate: Simulator<RaftEngine>.runner,
        servable: RaftEngine.self,
        throughput: { total, burst, payloadBytes, batching in
            let result = EngineBenchmarks.throughput(total: total, burst: burst, payloadBytes: payloadBytes, batching: batching)
            return EngineThroughput(
                committed: result.committed, entryBytes: result.entryBytes, messages: result.messages, steps: result.steps,
                commitLatencySteps: result.commitLatencySteps)
        }
    )
}
