import ConsensusCore
import Testing

@Suite struct QuorumTests {
    let ids = (1...5).map { NodeID(UInt64($0)) }

    @Test(arguments: [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (7, 4)])
    func majoritySize(voters: Int, size: Int) {
        #expect(MajorityQuorum(voters: (1...voters).map { NodeID(UInt64($0)) }).size == size)
    }

    @Test func committedIndexIsTheQuorumthLargestAcknowledgement() {
        let quorum = MajorityQuorum(voters: ids)
        let acknowledged: [NodeID: LogIndex] = [ids[0]: 9, ids[1]: 7, ids[2]: 5, ids[3]: 2]
        #expect(quorum.committedIndex { acknowledged[$0] } == 5)
    }

    @Test func votesWinLoseOrWait() {
        let quorum = MajorityQuorum(voters: ids)
        #expect(quorum.result { [ids[0]: true, ids[1]: true][$0] } == .pending)
        #expect(quorum.result { [ids[0]: true, ids[1]: true, ids[2]: true][$0] } == .won)
        #expect(quorum.result { [ids[0]: false, ids[1]: false, ids[2]: false][$0] } == .lost)
    }

    @Test func jointQuorumNeedsBothMajorities() {
        let old = MajorityQuorum(voters: ids[0..<3])
        let new = MajorityQuorum(voters: ids[2..<5])
        let joint = JointQuorum(incoming: new, outgoing: old)
        let acknowledged: [NodeID: LogIndex] = [ids[0]: 10, ids[1]: 10, ids[2]: 4, ids[3]: 3, ids[4]: 1]
        #expect(joint.committedIndex { acknowledged[$0] } == 3)
        #expect(joint.result { [ids[0]: true, ids[1]: true][$0] } == .pending)
        #expect(joint.result { [ids[0]: true, ids[1]: true, ids[3]: true, ids[4]: true][$0] } == .won)
        #expect(joint.voters == ids)
    }

    @Test(arguments: [(4, 1, 3), (7, 2, 5), (10, 3, 7), (3, 0, 1)])
    func byzantineQuorum(replicas: Int, faults: Int, size: Int) {
        let quorum = ByzantineQuorum(replicaCount: replicas)
        #expect(quorum.faultsTolerated == faults)
        #expect(quorum.size == size)
        #expect(quorum.weakCertificateSize == faults + 1)
    }
}

@Suite struct QuorumKindTests {
    let five = (1...5).map { NodeID(UInt64($0)) }

    @Test func sizesPerKindAndPhase() {
        #expect(QuorumKind.majority.size(of: .election, voters: 5) == 3)
        #expect(QuorumKind.flexible(phase1: 4, phase2: 2).size(of: .election, voters: 5) == 4)
        #expect(QuorumKind.flexible(phase1: 4, phase2: 2).size(of: .replication, voters: 5) == 2)
        #expect(QuorumKind.byzantine.size(of: .replication, voters: 4) == 3)
        #expect(QuorumKind.byzantine.size(of: .replication, voters: 7) == 5)
    }

    @Test func flexibleQuorumsThatDoNotIntersectAreRefusedWithAClearError() {
        #expect(throws: QuorumKind.Problem.quorumsDoNotIntersect(phase1: 2, phase2: 3, voters: 5)) {
            try QuorumKind.flexible(phase1: 2, phase2: 3).validate(voters: 5)
        }
        #expect(throws: QuorumKind.Problem.sizeOutOfRange(phase: .election, size: 6, voters: 5)) {
            try QuorumKind.flexible(phase1: 6, phase2: 1).validate(voters: 5)
        }
        #expect(throws: QuorumKind.Problem.tooFewReplicasForByzantine(voters: 3)) { try QuorumKind.byzantine.validate(voters: 3) }
        #expect(throws: Never.self) { try QuorumKind.flexible(phase1: 4, phase2: 2).validate(voters: 5) }
        #expect("\(QuorumKind.Problem.quorumsDoNotIntersect(phase1: 2, phase2: 3, voters: 5))".contains("must exceed 5"))
    }

    /// Every phase-1 quorum of a valid flexible configuration meets every phase-2 quorum, and an
    /// invalid one has two that miss each other: checked over all subsets of five voters.
    @Test(arguments: [(4, 2, true), (3, 3, true), (5, 1, true), (2, 3, false), (3, 2, false)])
    func flexibleQuorumsIntersectExactlyWhenValid(phase1: Int, phase2: Int, valid: Bool) {
        let subsets = (0..<32).map { mask in Set((0..<5).filter { mask & (1 << $0) != 0 }) }
        let ones = subsets.filter { $0.count == phase1 }
        let twos = subsets.filter { $0.count == phase2 }
        let intersect = ones.allSatisfy { one in twos.allSatisfy { !one.isDisjoint(with: $0) } }
        #expect(intersect == valid)
        #expect(((try? QuorumKind.flexible(phase1: phase1, phase2: phase2).validate(voters: 5)) != nil) == valid)
    }

    @Test func jointMembershipNeedsBothConfigurations() {
        let membership = Membership(voters: five[0..<3], outgoingVoters: five[2..<5])
        let quorum = membership.quorum(.majority, for: .replication)
        let acknowledged: [NodeID: LogIndex] = [five[0]: 9, five[1]: 9, five[2]: 4, five[3]: 2, five[4]: 1]
        #expect(quorum.committedIndex { acknowledged[$0] } == 2)
        #expect(quorum.result { [five[0]: true, five[1]: true][$0] } == .pending)
        #expect(quorum.result { [five[0]: true, five[1]: true, five[2]: true, five[3]: true][$0] } == .won)
        #expect(quorum.result { [five[3]: false, five[4]: false][$0] } == .lost)
        // The majority kind agrees with Raft's own quorum.
        #expect(membership.quorum.committedIndex { acknowledged[$0] } == quorum.committedIndex { acknowledged[$0] })
    }

    @Test func byzantineCertificatesNeedTwoFPlusOne() {
        let four = Membership(voters: five[0..<4])
        let quorum = four.quorum(.byzantine, for: .replication)
        #expect(quorum.result { [five[0]: true, five[1]: true][$0] } == .pending)
        #expect(quorum.result { [five[0]: true, five[1]: true, five[2]: true][$0] } == .won)
        #expect(quorum.result { [five[0]: false, five[1]: false][$0] } == .lost)
    }
}
