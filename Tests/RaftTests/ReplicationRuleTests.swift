import ConsensusCore
import Raft
import RaftTestKit
import Simulation
import Testing

/// Replication and commitment rules.
@Suite struct ReplicationRuleTests {
    /// Figure 8 and §5.4.2: "Raft never commits log entries from previous terms by counting replicas."
    /// Node 1 leads term 1 and gives index 2 to node 2 only; node 5 leads term 2 with a different
    /// index 2 that nobody else stores; node 1 returns as leader of a later term and replicates its
    /// term-1 entry to a majority. It must not count that majority: node 5 could still win an election
    /// (its last term is 2) and overwrite index 2. Only when an entry of node 1's own term reaches a
    /// majority are both committed.
    @Test func figure8EntriesOfEarlierTermsAreNotCommittedByCounting() {
        var cluster = RaftTestCluster(nodeCount: 5) {
            $0.preVote = false
            $0.checkQuorum = false
            $0.entriesPerMessageMax = 1
        }
        cluster.campaign(1)
        cluster.stabilize()
        cluster.partition([[1, 2], [3, 4, 5]])
        cluster.propose(1, "x")
        cluster.stabilize()
        #expect(cluster.engine(2).log.term(at: 2) == 1)
        // S1 crashes; S5 wins term 2 with votes from S3 and S4 and appends index 2 only locally.
        cluster.crash(1)
        cluster.campaign(5)
        cluster.deliverRound()  // Vote requests to S3 and S4.
        cluster.deliverRound()  // Grants back: S5 leads and sends its no-op, which is lost.
        cluster.dropPending()
        #expect(cluster.engine(5).role == .leader && cluster.engine(5).term == 2)
        #expect(cluster.engine(5).log.term(at: 2) == 2)
        #expect(cluster.engine(3).log.lastIndex == 1)
        cluster.crash(5)
        // S1 restarts and wins a later term with votes from S2 and S3 (S3's log ends in term 1).
        cluster.restart(1)
        cluster.partition([[1, 2, 3], [4, 5]])
        var attempts = 0
        while cluster.engine(1).role != .leader && attempts < 5 {
            cluster.campaign(1)
            cluster.deliverRound()
            cluster.deliverRound()
            attempts += 1
        }
        #expect(cluster.engine(1).role == .leader)
        let leaderTerm = cluster.engine(1).term
        #expect(leaderTerm >= 3)
        // Deliver until S3 holds index 2 from S1, stopping before S1's own-term entry reaches it.
        var rounds = 0
        while cluster.engine(3).log.term(at: 2) != 1 && rounds < 10 {
            cluster.deliverRound()
            rounds += 1
        }
        cluster.deliverRound(to: 1)
        #expect(cluster.engine(3).log.term(at: 2) == 1)
        #expect(cluster.engine(3).log.term(at: 3) == nil)
        // Index 2 sits on S1, S2 and S3, a majority of five, yet is not committed.
        #expect(cluster.engine(1).commitIndex == 1, "index 2 committed by counting replicas of an earlier term:\n\(cluster.log.joined(separator: "\n"))")
        cluster.stabilize()
        #expect(cluster.engine(1).commitIndex == 3)
        #expect(cluster.engine(1).log.term(at: 3) == leaderTerm)
        #expect(cluster.appliedCommands(1) == ["x"])
    }

    /// The same rule in a three-node cluster.
    @Test func leaderDoesNotCommitEarlierTermEntryUntilItsOwnTermReplicates() {
        var cluster = RaftTestCluster(nodeCount: 3) {
            $0.preVote = false
            $0.checkQuorum = false
            $0.entriesPerMessageMax = 1
        }
        cluster.campaign(1)
        cluster.stabilize()
        cluster.isolate(1)
        cluster.propose(1, "old")  // Index 2, term 1, on node 1 only.
        cluster.dropPending()
        cluster.crash(1)
        cluster.restart(1)
        cluster.heal()
        cluster.isolate(3)
        cluster.campaign(1)  // Term 2; its no-op goes to index 3.
        cluster.deliverRound()
        cluster.deliverRound()
        #expect(cluster.engine(1).role == .leader && cluster.engine(1).term == 2)
        var rounds = 0
        while cluster.engine(2).log.term(at: 2) != 1 && rounds < 10 {
            cluster.deliverRound()
            rounds += 1
        }
        cluster.deliverRound(to: 1)
        #expect(cluster.engine(2).log.term(at: 2) == 1 && cluster.engine(2).log.lastIndex == 2)
        #expect(cluster.engine(1).commitIndex == 1, "committed an earlier-term entry by counting replicas")
        cluster.stabilize()
        #expect(cluster.engine(1).commitIndex == 3)
    }

    /// §5.3 with conflict hints: the follower's hint lets the leader skip a conflicting term at once.
    /// A follower that holds everything sent to it hears of a new commit index at once, in an empty
    /// append, not with the next heartbeat: a client waiting on that follower is answered now. No
    /// tick happens here, so no heartbeat can carry it.
    @Test func idleFollowersLearnANewCommitWithoutAHeartbeat() {
        var cluster = RaftTestCluster(nodeCount: 3)
        cluster.campaign(1)
        cluster.stabilize()
        cluster.propose(1, "x")
        cluster.stabilize()
        let committed = cluster.engine(1).commitIndex
        #expect(committed == cluster.engine(1).log.lastIndex)
        #expect(cluster.engine(2).commitIndex == committed)
        #expect(cluster.engine(3).commitIndex == committed)
    }

    /// A follower with appends in flight gets no extra message when the commit moves: the reply to
    /// what is in flight brings the leader back to it. A busy cluster pays nothing for the rule above.
    @Test func followersWithAppendsInFlightGetNoExtraAppend() {
        var cluster = RaftTestCluster(nodeCount: 3)
        cluster.campaign(1)
        cluster.stabilize()
        cluster.propose(1, "a")
        _ = cluster.deliverRound()  // The appends reach both followers.
        cluster.propose(1, "b")  // Sent at once: both followers now have "b" in flight.
        let before = cluster.log.count
        _ = cluster.deliverRound()  // Their replies to "a" move the commit; "b" is still in flight.
        let emptyAppends = cluster.log[before...].filter { $0.contains(" send n1->") && $0.hasSuffix("[]") }
        #expect(emptyAppends.isEmpty, "empty appends sent: \(emptyAppends)")
        cluster.stabilize()
        #expect(cluster.engine(2).commitIndex == cluster.engine(1).commitIndex)
        #expect(cluster.engine(3).commitIndex == cluster.engine(1).commitIndex)
    }

    @Test func conflictHintSkipsAWholeTerm() {
        var cluster = RaftTestCluster(nodeCount: 3) { $0.preVote = false; $0.checkQuorum = false }
        cluster.campaign(1)
        cluster.stabilize()
        cluster.isolate(1)
        for index in 0..<20 { cluster.propose(1, "stale-\(index)") }
        cluster.dropPending()
        cluster.heal()
        cluster.isolate(1)
        cluster.campaign(2)
        cluster.stabilize()
        for index in 0..<30 { cluster.propose(2, "fresh-\(index)") }
        cluster.stabilize()
        cluster.heal()
        cluster.campaign(3)
        cluster.stabilize()
        cluster.tick(3)
        cluster.stabilize()
        let rejections = cluster.log.filter { $0.contains("n1 send") && $0.contains("reject=") }
        #expect(rejections.count <= 2, "backtracking took \(rejections.count) rejections: \(rejections)")
        #expect(cluster.engine(1).log.entries.map(\.term) == cluster.engine(3).log.entries.map(\.term))
        #expect(cluster.appliedCommands(1).allSatisfy { $0.hasPrefix("fresh") })
    }

    /// A bounded pipeline: no more than `inflightMessagesMax` appends are outstanding per follower.
    @Test(arguments: [1, 3, 8])
    func inflightWindowIsBoundedByCount(window: Int) {
        var cluster = RaftTestCluster(nodeCount: 2) {
            $0.inflightMessagesMax = window
            $0.entriesPerMessageMax = 1
        }
        cluster.campaign(1)
        cluster.stabilize()
        for index in 0..<20 { cluster.propose(1, "entry-\(index)") }
        let appends = cluster.pending.filter { if case .append = $0.kind { return true } else { return false } }
        #expect(appends.count == window)
        cluster.stabilize()
        #expect(cluster.engine(2).log.lastIndex == 21)
    }

    /// The window is bounded by bytes as well: large entries leave fewer messages in flight.
    @Test func inflightWindowIsBoundedByBytes() {
        var cluster = RaftTestCluster(nodeCount: 2) {
            $0.inflightMessagesMax = 100
            $0.inflightBytesMax = 3_000
            $0.entriesPerMessageMax = 1
        }
        cluster.campaign(1)
        cluster.stabilize()
        let payload = String(repeating: "x", count: 1_000)
        for _ in 0..<10 { cluster.propose(1, payload) }
        let appends = cluster.pending.filter { if case .append = $0.kind { return true } else { return false } }
        #expect(appends.count == 3)
    }

    /// Batching: one message carries several entries, up to the count and byte bounds.
    @Test func appendsBatchEntriesWithinBounds() {
        var cluster = RaftTestCluster(nodeCount: 2) {
            $0.inflightMessagesMax = 1
            $0.entriesPerMessageMax = 4
        }
        cluster.campaign(1)
        cluster.stabilize()
        for index in 0..<10 { cluster.propose(1, "entry-\(index)") }
        cluster.deliverRound()  // The first append; its acknowledgement goes back.
        cluster.deliverRound()  // The leader now sends a batch of the waiting entries.
        let sizes = cluster.pending.compactMap { message -> Int? in
            if case .append(let append) = message.kind { return append.entries.count } else { return nil }
        }
        #expect(sizes == [4])
    }

    /// Followers commit only what they hold and what the leader says is committed.
    @Test func followerCommitIsCappedByWhatItHolds() {
        var cluster = RaftTestCluster(nodeCount: 3)
        cluster.campaign(1)
        cluster.stabilize()
        cluster.isolate(3)
        cluster.propose(1, "a")
        cluster.stabilize()
        cluster.tick(1)
        cluster.stabilize()
        #expect(cluster.engine(3).commitIndex <= cluster.engine(3).log.lastIndex)
        #expect(cluster.engine(2).commitIndex == 2)
    }
}
