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
