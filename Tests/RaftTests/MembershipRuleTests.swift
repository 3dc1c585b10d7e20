import ConsensusCore
import Raft
import RaftTestKit
import Simulation
import Testing

/// Membership changes (dissertation chapter 4), leadership transfer (§3.10) and snapshots (§5).
@Suite struct MembershipRuleTests {
    func electedCluster(_ count: Int, configure: @escaping (inout RaftConfiguration) -> Void = { _ in }) -> RaftTestCluster {
        var cluster = RaftTestCluster(nodeCount: count, configure: configure)
        cluster.campaign(1)
        cluster.stabilize()
        return cluster
    }

    /// §4.1: "a server always uses the latest configuration in its log, regardless of whether the
    /// entry is committed."
    @Test func configurationTakesEffectWhenAppendedNotWhenCommitted() {
        var cluster = electedCluster(3)
        cluster.addJoiningNode(4)
        cluster.changeMembership(1, .addLearner(NodeID(4)))
        cluster.deliverRound(to: 2)
        #expect(cluster.engine(2).membership.learners == [NodeID(4)])
        #expect(cluster.engine(2).commitIndex < cluster.engine(2).membershipIndex)
    }

    @Test func onlyOneChangeAtATime() {
        var cluster = electedCluster(3)
        cluster.changeMembership(1, .remove(NodeID(3)), request: 1)
        cluster.changeMembership(1, .remove(NodeID(2)), request: 2)
        #expect(cluster.node(1).rejections[RequestID(2)] == .membershipChangeInProgress)
        cluster.stabilize()
        #expect(cluster.engine(1).membership.voters == [NodeID(1), NodeID(2)])
        cluster.changeMembership(1, .remove(NodeID(2)), request: 3)
        #expect(cluster.node(1).rejections[RequestID(3)] == nil)
    }

    /// Joint consensus: while C_old,new is in force, commitment needs a majority of both.
    @Test func jointConfigurationNeedsBothMajorities() {
        var cluster = electedCluster(3)
        cluster.addJoiningNode(4)
        cluster.addJoiningNode(5)
        cluster.changeMembership(1, .addLearner(NodeID(4)))
        cluster.stabilize()
        cluster.changeMembership(1, .addLearner(NodeID(5)))
        cluster.stabilize()
        cluster.propose(1, "x")
        cluster.stabilize()
        // Move to voters {1, 4, 5}: C_old,new = {1,4,5} & {1,2,3}.
        cluster.changeMembership(1, .replace(voters: [NodeID(1), NodeID(4), NodeID(5)], learners: []))
        #expect(cluster.engine(1).membership.isJoint)
        // With 4 and 5 cut off, the old majority alone cannot commit the joint entry.
        cluster.isolate(4)
        cluster.isolate(5)
        cluster.stabilize()
        #expect(cluster.engine(1).commitIndex < cluster.engine(1).membershipIndex)
        cluster.heal()
        cluster.tick(1)
        cluster.stabilize()
        cluster.tick(1)
        cluster.stabilize()
        #expect(!cluster.engine(1).membership.isJoint)
        #expect(cluster.engine(1).membership.voters == [NodeID(1), NodeID(4), NodeID(5)])
        #expect(cluster.engine(1).commitIndex == cluster.engine(1).membershipIndex)
    }

    /// §4.2.2: a leader removed from the configuration steps down once C_new commits, not before.
    @Test func removedLeaderStepsDownOnceTheChangeCommits() {
        var cluster = electedCluster(3)
        cluster.changeMembership(1, .remove(NodeID(1)))
        cluster.deliverRound()
        #expect(cluster.engine(1).role == .leader, "stepped down before C_old,new committed")
        cluster.stabilize()
        #expect(cluster.engine(1).role == .follower)
        #expect(!cluster.engine(1).membership.isVoter(NodeID(1)))
        // The remaining voters elect a leader among themselves; node 1 never campaigns again.
        for _ in 0..<40 {
            cluster.tick(1)
            cluster.tick(2)
            cluster.tick(3)
            cluster.stabilize()
        }
        #expect(cluster.leaders.count == 1 && cluster.leaders.first != NodeID(1))
        #expect(cluster.engine(1).role == .follower)
    }

    /// Regression for seed 4475 of the 100,000-seed sweep: the old leader appended C_new (which
    /// removes it), crashed before replicating it, and restarted holding the most up-to-date log. The
    /// others, still in C_old,new, need its vote and cannot get it; it must campaign itself, lead the
    /// configuration without itself until C_new commits, then step down.
    @Test func aNodeRemovedByAnUncommittedConfigurationStillCampaigns() {
        // Voters {1, 2} and a caught-up learner 3; then voters become {3}: C_old,new = {3} & {1, 2},
        // whose outgoing half needs both 1 and 2.
        var cluster = electedCluster(2)
        cluster.addJoiningNode(3)
        cluster.changeMembership(1, .addLearner(NodeID(3)))
        cluster.stabilize()
        cluster.changeMembership(1, .replace(voters: [NodeID(3)], learners: []))
        cluster.deliverRound()  // C_old,new reaches 2 and 3.
        cluster.deliverRound()  // Their acknowledgements commit it; node 1 appends C_new.
        #expect(!cluster.engine(1).membership.isJoint)
        cluster.dropPending()   // C_new never leaves node 1.
        cluster.crash(1)
        cluster.restart(1)
        #expect(!cluster.engine(1).membership.isVoter(NodeID(1)))
        for _ in 0..<60 where cluster.engine(3).role != .leader || cluster.engine(3).membership.isJoint {
            for id in 1...3 as ClosedRange<UInt64> { cluster.tick(id) }
            cluster.stabilize()
        }
        #expect(cluster.engine(3).role == .leader, "no leader: \(InteractionScript.status(cluster))")
        #expect(cluster.engine(3).membership.voters == [NodeID(3)] && !cluster.engine(3).membership.isJoint)
        #expect(cluster.engine(1).role == .follower)
    }

    @Test func promotionOfALaggingLearnerIsRefused() {
        var cluster = electedCluster(3)
        cluster.addJoiningNode(4)
        cluster.isolate(4)
        cluster.changeMembership(1, .addLearner(NodeID(4)))
        cluster.stabilize()
        for index in 0..<10 { cluster.propose(1, "p\(index)") }
        cluster.stabilize()
        cluster.changeMembership(1, .promoteLearner(NodeID(4)), request: 7)
        guard case .learnerNotCaughtUp(NodeID(4), matchIndex: 0, leaderLastIndex: _)? = cluster.node(1).rejections[RequestID(7)] else {
            Issue.record("expected a learnerNotCaughtUp refusal, got \(String(describing: cluster.node(1).rejections[RequestID(7)]))")
            return
        }
        cluster.heal()
        cluster.tick(1)
        cluster.stabilize()
        cluster.changeMembership(1, .promoteLearner(NodeID(4)), request: 8)
        cluster.stabilize()
        #expect(cluster.node(1).rejections[RequestID(8)] == nil)
        #expect(cluster.engine(1).membership.voters.contains(NodeID(4)))
    }

    /// etcd's strict reconfiguration check: a change of voters needs enough voters of the new
    /// configuration that answered lately to form its quorum; a learner change is never refused.
    @Test func strictCheckRefusesAChangeThatWouldLeaveTooFewAnswering() {
        var cluster = electedCluster(3) { $0.strictReconfigurationCheck = true }
        cluster.tick(1)
        cluster.stabilize()
        // With 3 cut off, removing 2 leaves {1, 3}: only 1 answers, 2 are needed.
        cluster.isolate(3)
        for _ in 0..<12 {
            cluster.tick(1)
            cluster.stabilize()
        }
        cluster.changeMembership(1, .remove(NodeID(2)), request: 5)
        #expect(cluster.node(1).rejections[RequestID(5)] == .notEnoughActiveMembers(active: 1, needed: 2))
        // Removing 3 instead leaves {1, 2}, both answering.
        cluster.changeMembership(1, .remove(NodeID(3)), request: 6)
        cluster.stabilize()
        #expect(cluster.node(1).rejections[RequestID(6)] == nil)
        #expect(cluster.engine(1).membership.voters == [NodeID(1), NodeID(2)])
    }

    /// As etcd's `mayAddMember`: a voter is added only while every current voter answers, even when
    /// the rest would make a quorum of the larger configuration.
    @Test func strictCheckAddsAVoterOnlyWhileEveryVoterAnswers() {
        var cluster = electedCluster(5) { $0.strictReconfigurationCheck = true }
        cluster.addJoiningNode(6)
        cluster.tick(1)
        cluster.stabilize()
        cluster.isolate(5)
        for _ in 0..<12 {
            cluster.tick(1)
            cluster.stabilize()
        }
        cluster.changeMembership(1, .addVoter(NodeID(6)), request: 5)
        #expect(cluster.node(1).rejections[RequestID(5)] == .notEnoughActiveMembers(active: 4, needed: 5))
        cluster.heal()
        cluster.tick(1)
        cluster.stabilize()
        cluster.changeMembership(1, .addVoter(NodeID(6)), request: 6)
        #expect(cluster.node(1).rejections[RequestID(6)] == nil)
    }

    /// Without the check (the engine's default), the same change is taken, as before.
    @Test func withoutTheStrictCheckTheChangeIsTaken() {
        var cluster = electedCluster(3)
        cluster.isolate(3)
        cluster.changeMembership(1, .remove(NodeID(2)), request: 5)
        #expect(cluster.node(1).rejections[RequestID(5)] == nil)
    }

    @Test func learnersNeverCampaign() {
        var cluster = electedCluster(3)
        cluster.addJoiningNode(4)
        cluster.changeMembership(1, .addLearner(NodeID(4)))
        cluster.stabilize()
        cluster.isolate(4)
        cluster.tick(4, times: 100)
        #expect(cluster.pending.allSatisfy { $0.from != NodeID(4) })
        #expect(cluster.engine(4).role == .follower)
    }

    @Test func transferIsAbandonedAfterAnElectionTimeout() {
        var cluster = electedCluster(3)
        cluster.isolate(3)
        cluster.transferLeadership(1, to: 3)
        cluster.propose(1, "refused", request: 1)
        #expect(cluster.node(1).rejections[RequestID(1)] == .leadershipTransferInProgress(to: NodeID(3)))
        cluster.tick(1, times: 10)
        cluster.dropPending()
        #expect(cluster.engine(1).transferTarget == nil)
        cluster.propose(1, "accepted", request: 2)
        #expect(cluster.node(1).rejections[RequestID(2)] == nil)
    }

    @Test func transferToANonVoterIsRefused() {
        var cluster = electedCluster(3)
        cluster.transferLeadership(1, to: 9, request: 1)
        #expect(cluster.node(1).rejections[RequestID(1)] == .transferTargetNotVoter(NodeID(9)))
    }

    /// A node restarted from a snapshot and the entries after it resumes with its log offset, its
    /// commit index and its state machine where they were.
    @Test func restartFromSnapshotKeepsOffsetAndState() {
        var cluster = electedCluster(3) {
            $0.snapshotEntriesThreshold = 2
            $0.compactionRetainEntries = 0
        }
        for index in 0..<5 { cluster.propose(1, "v\(index)") }
        cluster.stabilize()
        cluster.tick(1)
        cluster.stabilize()
        let before = cluster.engine(2)
        #expect(before.log.offsetIndex > 0, "no compaction happened")
        cluster.crash(2)
        cluster.restart(2)
        let after = cluster.engine(2)
        #expect(after.log.offsetIndex == before.snapshot?.metadata.index)
        #expect(after.log.lastIndex == before.log.lastIndex)
        #expect(after.commitIndex >= after.log.offsetIndex)
        cluster.tick(1)
        cluster.stabilize()
        #expect(cluster.appliedCommands(2) == (0..<5).map { "v\($0)" })
    }
}

@Suite struct ConfigurationEntryTests {
    @Test func roundTrips() {
        let entry = ConfigurationEntry(
            membership: Membership(voters: [NodeID(1), NodeID(2)], learners: [NodeID(5)], outgoingVoters: [NodeID(1), NodeID(3)]),
            requestID: RequestID(42),
            origin: NodeID(2)
        )
        #expect(ConfigurationEntry(decoding: entry.encoded) == entry)
    }

    /// Configuration entries are read back from disks and peers: random and truncated bytes must be
    /// refused, never trap.
    @Test func decodingGarbageNeverTraps() {
        var random = SeededRandom(seed: 11)
        let valid = ConfigurationEntry(membership: Membership(voters: [NodeID(1)]), requestID: nil, origin: nil).encoded
        for length in 0..<valid.count {
            #expect(ConfigurationEntry(decoding: Array(valid.prefix(length))) == nil)
        }
        var decoded = 0
        for _ in 0..<5_000 {
            var bytes = (0..<random.int(in: 0..<80)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if random.chance(0.5), !bytes.isEmpty { bytes[0] = 1 }
            if ConfigurationEntry(decoding: bytes) != nil { decoded += 1 }
        }
        #expect(decoded < 50)
    }
}

@Suite struct SnapshotPolicyTests {
    @Test func aSnapshotIsTakenByEntryCount() {
        var cluster = RaftTestCluster(nodeCount: 1) { $0.snapshotEntriesThreshold = 4 }
        cluster.campaign(1)
        for index in 0..<3 { cluster.propose(1, "v\(index)") }
        #expect(cluster.engine(1).snapshot?.metadata.index == 4)
    }

    @Test func aSnapshotIsTakenByBytes() {
        var cluster = RaftTestCluster(nodeCount: 1) {
            $0.snapshotEntriesThreshold = 1_000
            $0.snapshotBytesThreshold = 1_000
        }
        cluster.campaign(1)
        cluster.propose(1, String(repeating: "x", count: 600))
        #expect(cluster.engine(1).snapshot == nil)
        cluster.propose(1, String(repeating: "y", count: 600))
        #expect(cluster.engine(1).snapshot?.metadata.index == 3)
    }
}
