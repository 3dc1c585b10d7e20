import ConsensusCore
import Raft
import RaftTestKit
import Simulation
import Testing

/// Client requests: linearizable reads (§6.4) and proposals, which are answered or refused, never dropped.
@Suite struct RequestRuleTests {
    /// ReadIndex under partition: a deposed leader that cannot reach a quorum never answers a read,
    /// even after a new leader has committed a newer value; it refuses the read when it steps down.
    @Test func readIndexOnAPartitionedLeaderNeverReturnsStaleData() {
        var cluster = RaftTestCluster(nodeCount: 3)
        cluster.campaign(1)
        cluster.stabilize()
        cluster.isolate(1)
        cluster.read(1, request: 42)
        cluster.dropPending()
        cluster.tick(3, times: 10)
        cluster.tick(2, times: 10)
        cluster.dropPending()
        cluster.campaign(2)
        cluster.stabilize()
        #expect(cluster.engine(2).role == .leader)
        cluster.propose(2, "newer")
        cluster.stabilize()
        for _ in 0..<30 {
            cluster.tick(1)
            cluster.dropPending()
        }
        #expect(cluster.node(1).readsReady[RequestID(42)] == nil, "stale read served")
        #expect(cluster.node(1).rejections[RequestID(42)] == .leaderChanged)
    }

    /// A read waits for the new leader's first commit: before it, the leader's commit index may trail
    /// the previous leader's.
    @Test func readWaitsForTheLeadersFirstCommit() {
        var cluster = RaftTestCluster(nodeCount: 3)
        cluster.campaign(1)
        cluster.deliverRound()  // Pre-votes out.
        cluster.deliverRound()  // Grants back: node 1 is candidate.
        cluster.deliverRound()  // Votes out.
        cluster.deliverRound()  // Grants back: node 1 leads but has committed nothing of its term.
        #expect(cluster.engine(1).role == .leader)
        #expect(cluster.engine(1).commitIndex == 0)
        cluster.read(1, request: 1)
        #expect(cluster.node(1).readsReady.isEmpty)
        cluster.stabilize()
        cluster.stabilize()
        #expect(cluster.node(1).readsReady[RequestID(1)] == 1)
    }

    /// A follower's read is forwarded and answered with the leader's confirmed commit index.
    @Test func followerReadIsForwardedToTheLeader() {
        var cluster = RaftTestCluster(nodeCount: 3)
        cluster.campaign(1)
        cluster.stabilize()
        cluster.propose(1, "v")
        cluster.stabilize()
        cluster.read(3, request: 5)
        cluster.stabilize()
        #expect(cluster.node(3).readsReady[RequestID(5)] == 2)
    }

    /// A follower's forwarded read that gets no answer is refused after a bounded wait.
    @Test func unansweredForwardedReadTimesOut() {
        var cluster = RaftTestCluster(nodeCount: 3) { $0.forwardedReadTimeoutTicks = 5 }
        cluster.campaign(1)
        cluster.stabilize()
        cluster.read(3, request: 6)
        cluster.dropPending()
        cluster.tick(3, times: 5)
        #expect(cluster.node(3).rejections[RequestID(6)] == .timedOut)
    }

    /// Lease reads answer at once while the lease holds, and stop once it has lapsed.
    @Test func leaseReadIsServedOnlyWhileTheLeaseHolds() {
        var cluster = RaftTestCluster(nodeCount: 3) { $0.readMode = .lease }
        cluster.tick(2, times: 10)
        cluster.tick(3, times: 10)
        cluster.dropPending()
        cluster.campaign(1)
        cluster.stabilize()
        cluster.tick(1)
        cluster.stabilize()
        cluster.read(1, request: 1)
        #expect(cluster.node(1).readsReady[RequestID(1)] != nil, "lease read needed a round trip")
        cluster.isolate(1)
        cluster.tick(1, times: 9)
        cluster.dropPending()
        cluster.read(1, request: 2)
        #expect(cluster.node(1).readsReady[RequestID(2)] == nil, "read served after the lease lapsed")
    }

    @Test func proposalOverTheSizeLimitIsRejected() {
        var cluster = RaftTestCluster(nodeCount: 1) { $0.proposalBytesMax = 10 }
        cluster.campaign(1)
        cluster.propose(1, String(repeating: "x", count: 11), request: 1)
        #expect(cluster.node(1).rejections[RequestID(1)] == .proposalTooLarge(bytes: 11, limitBytes: 10))
        #expect(cluster.engine(1).log.lastIndex == 1)
    }

    @Test func proposalsBeyondTheUncommittedBoundAreRejected() {
        var cluster = RaftTestCluster(nodeCount: 3) { $0.uncommittedBytesMax = 100 }
        cluster.campaign(1)
        cluster.stabilize()
        cluster.isolate(1)
        for request in 1...10 as ClosedRange<UInt64> { cluster.propose(1, String(repeating: "y", count: 20), request: request) }
        let rejected = cluster.node(1).rejections.values.filter { $0 == .uncommittedLogFull(limitBytes: 100) }
        #expect(rejected.count == 8, "\(cluster.node(1).rejections)")
    }

    @Test func proposalWithoutLeaderIsRejected() {
        var cluster = RaftTestCluster(nodeCount: 3)
        cluster.propose(2, "early", request: 1)
        #expect(cluster.node(2).rejections[RequestID(1)] == .noLeader)
    }

    @Test func followerWithoutForwardingNamesTheLeader() {
        var cluster = RaftTestCluster(nodeCount: 3) { $0.forwardProposals = false }
        cluster.campaign(1)
        cluster.stabilize()
        cluster.propose(3, "x", request: 1)
        #expect(cluster.node(3).rejections[RequestID(1)] == .notLeader(leader: NodeID(1)))
    }

    @Test func forwardedProposalIsCommitted() {
        var cluster = RaftTestCluster(nodeCount: 3)
        cluster.campaign(1)
        cluster.stabilize()
        cluster.propose(3, "via-follower", request: 1)
        cluster.stabilize()
        cluster.tick(1)
        cluster.stabilize()
        #expect(cluster.appliedCommands(3) == ["via-follower"])
        #expect(cluster.node(3).rejections.isEmpty)
    }

    /// A forwarded proposal that reaches a node which is no longer leader comes back refused.
    @Test func forwardedProposalToAStaleLeaderIsRefusedBack() {
        var cluster = RaftTestCluster(nodeCount: 3)
        cluster.campaign(1)
        cluster.stabilize()
        cluster.step(1, .receive(RaftMessage(from: NodeID(2), to: NodeID(1), term: 1, kind: .appendResponse(.rejected(rejectedIndex: 0, hintIndex: 0, hintTerm: nil)))))
        cluster.isolate(1)
        cluster.tick(1, times: 20)
        cluster.dropPending()
        cluster.heal()
        #expect(cluster.engine(1).role == .follower)
        cluster.step(1, .receive(RaftMessage(from: NodeID(3), to: NodeID(1), term: 1, kind: .forwardedProposal(RequestID(9), Array("late".utf8)))))
        cluster.deliverRound(to: 3)
        #expect(cluster.node(3).rejections[RequestID(9)] != nil)
    }

    /// A network that delivers a forwarded proposal twice gets it appended once: a second copy
    /// would apply an etcd put again, after later writes (found by the etcd service's simulation).
    @Test func aDuplicatedForwardedProposalIsAppendedOnce() {
        var cluster = RaftTestCluster(nodeCount: 3)
        cluster.campaign(1)
        cluster.stabilize()
        let proposal = RaftMessage(from: NodeID(3), to: NodeID(1), term: 1, kind: .forwardedProposal(RequestID(7), Array("once".utf8)))
        cluster.step(1, .receive(proposal))
        cluster.step(1, .receive(proposal))
        // The same id from another follower is another proposal.
        cluster.step(1, .receive(RaftMessage(from: NodeID(2), to: NodeID(1), term: 1, kind: .forwardedProposal(RequestID(7), Array("other".utf8)))))
        cluster.stabilize()
        cluster.tick(1)
        cluster.stabilize()
        #expect(cluster.appliedCommands(1) == ["once", "other"])
    }
}
