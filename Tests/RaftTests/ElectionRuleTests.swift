import ConsensusCore
import Raft
import RaftTestKit
import Simulation
import Testing

/// Election rules, each keyed to the paper or dissertation section that states it.
@Suite struct ElectionRuleTests {
    /// §5.4.1: "the voter denies its vote if its own log is more up-to-date than that of the candidate."
    @Test func electionRestrictionDeniesVotesToStaleCandidates() {
        var cluster = RaftTestCluster(nodeCount: 3) { $0.preVote = false; $0.checkQuorum = false }
        cluster.campaign(1)
        cluster.stabilize()
        cluster.isolate(3)
        cluster.propose(1, "only-on-1-and-2")
        cluster.stabilize()
        cluster.dropPending()
        cluster.heal()
        cluster.isolate(1)
        cluster.campaign(3)
        cluster.stabilize()
        #expect(cluster.engine(3).role != .leader, "node 3 lacks a committed entry yet won:\n\(cluster.log.joined(separator: "\n"))")
        #expect(cluster.node(2).durableHardState.vote != NodeID(3))
        #expect(cluster.log.contains { $0.contains("n2->n3") && $0.contains("VoteResp reject") })
    }

    /// §5.2 and Figure 2: one vote per term, persisted before it is granted.
    @Test func voteIsPersistedBeforeTheGrantIsSent() {
        var cluster = RaftTestCluster(nodeCount: 3) { $0.preVote = false; $0.checkQuorum = false }
        cluster.campaign(1)
        cluster.deliverRound(to: 2)
        let lines = cluster.log
        let persist = lines.firstIndex { $0.contains("n2 persist hard=term=1 vote=n1") }
        let grant = lines.firstIndex { $0.contains("n2 send n2->n1 t1 VoteResp grant") }
        #expect(persist != nil && grant != nil && persist! < grant!, "\(lines)")
        // A second candidate in the same term is refused.
        cluster.dropPending()
        cluster.step(2, .receive(RaftMessage(from: NodeID(3), to: NodeID(2), term: 1, kind: .vote(lastLogIndex: 5, lastLogTerm: 1, transfer: false))))
        #expect(cluster.node(2).durableHardState.vote == NodeID(1))
        #expect(cluster.pending.contains { $0.from == NodeID(2) && $0.kind == .voteResponse(granted: false) })
    }

    /// §9.6: a partitioned node running pre-vote never raises its term, so it cannot depose the
    /// leader when it returns. Without pre-vote the same scenario does inflate the term.
    @Test(arguments: [true, false])
    func preVoteStopsTermInflation(preVote: Bool) {
        var cluster = RaftTestCluster(nodeCount: 3) { $0.preVote = preVote; $0.checkQuorum = false }
        cluster.campaign(1)
        cluster.stabilize()
        cluster.isolate(3)
        cluster.tick(3, times: 100)
        cluster.dropPending()
        if preVote {
            #expect(cluster.engine(3).term == 1)
        } else {
            #expect(cluster.engine(3).term > 3)
        }
        cluster.heal()
        for _ in 0..<30 {
            cluster.tick(1)
            cluster.tick(3)
            cluster.stabilize()
        }
        if preVote {
            #expect(cluster.engine(1).role == .leader && cluster.engine(1).term == 1, "the returning node disrupted the leader")
        } else {
            #expect(cluster.engine(1).term > 1, "without pre-vote the returning node should have forced a new term")
        }
    }

    /// §6.2: a leader that has not heard from a quorum within an election timeout steps down;
    /// without check-quorum it would stay leader forever.
    @Test(arguments: [true, false])
    func checkQuorumStepsDownAnIsolatedLeader(checkQuorum: Bool) {
        var cluster = RaftTestCluster(nodeCount: 3) { $0.checkQuorum = checkQuorum }
        cluster.campaign(1)
        cluster.stabilize()
        cluster.isolate(1)
        cluster.tick(1, times: 2 * 10)
        cluster.dropPending()
        #expect((cluster.engine(1).role == .leader) == !checkQuorum)
    }

    /// §9.6 with check-quorum: a follower that hears from a leader ignores vote requests, so one
    /// node with a flaky link cannot force elections.
    @Test func followerInLeaseIgnoresVoteRequests() {
        var cluster = RaftTestCluster(nodeCount: 3)
        cluster.campaign(1)
        cluster.stabilize()
        cluster.step(2, .receive(RaftMessage(from: NodeID(3), to: NodeID(2), term: 5, kind: .vote(lastLogIndex: 9, lastLogTerm: 4, transfer: false))))
        #expect(cluster.engine(2).term == 1)
        #expect(cluster.pending.isEmpty)
    }

    /// Election timeouts are randomised in [T, 2T) from the injected generator, so the same seed
    /// gives the same timeouts and different nodes usually differ.
    @Test func electionTimeoutIsRandomisedWithinBounds() {
        var firstCampaignTicks: [Int] = []
        for seed in 0..<20 as Range<UInt64> {
            var engine = RaftEngine(configuration: RaftConfiguration(id: NodeID(1), voters: [NodeID(1), NodeID(2), NodeID(3)]), random: SeededRandom(seed: seed))
            var ticks = 0
            while engine.role == .follower && ticks < 100 {
                _ = engine.step(.tick)
                ticks += 1
            }
            firstCampaignTicks.append(ticks)
        }
        #expect(firstCampaignTicks.allSatisfy { (10..<20).contains($0) }, "\(firstCampaignTicks)")
        #expect(Set(firstCampaignTicks).count > 3, "timeouts are not randomised: \(firstCampaignTicks)")
    }
}
