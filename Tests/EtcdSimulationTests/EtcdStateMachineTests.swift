import ConsensusCore
import EtcdServer
import MVCC
import Replica
import Simulation
import Testing

/// The etcd state machine apart from its front end: the contract every state machine keeps, and
/// committed entries that do not decode skipped rather than trapped.
@Suite struct EtcdStateMachineTests {
    static func entries(count: Int, seed: UInt64) -> [Entry] {
        var random = SeededRandom(seed: seed)
        return (1...count).map { position in
            let index = LogIndex(position)
            let key = Array("k\(random.int(in: 0..<5))".utf8)
            let command: Command
            switch random.int(in: 0..<10) {
            case 0: return Entry(index: index, term: 1, kind: .noop)
            case 1: return Entry(index: index, term: 1, data: [ServiceTag.etcd.rawValue, 99, 1, 2])  // Undecodable.
            case 2:
                let membership = Membership(voters: [NodeID(1), NodeID(2), NodeID(UInt64(2 + random.int(in: 1..<3)))])
                return Entry(index: index, term: 1, kind: .configuration, data: ConfigurationEntry(membership: membership, requestID: nil, origin: nil).encoded)
            case 3: command = .deleteRange(DeleteRangeRequest(key: key))
            case 4: command = .leaseGrant(id: Int64(position), ttlSeconds: 10)
            case 5: command = .compact(revision: Int64(random.int(in: 1..<4)))
            default: command = .put(PutRequest(key: key, value: Array("v\(position)".utf8)))
            }
            return Entry(index: index, term: 1, data: EtcdProposal(requestID: RequestID(UInt64(position)), command: command).encoded)
        }
    }

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func theEtcdMachineKeepsTheContract(seed: UInt64) {
        let violation = StateMachineContract.violation({ EtcdStateMachine() }, entries: Self.entries(count: 80, seed: seed))
        #expect(violation == nil, "seed \(seed): \(violation ?? "")")
    }

    @Test func aCommittedEntryThatDoesNotDecodeIsSkippedOnEveryReplica() {
        var machine = EtcdStateMachine()
        let outcome = machine.apply(Entry(index: 1, term: 1, data: [ServiceTag.etcd.rawValue, 99]))
        guard case .skipped = outcome else {
            Issue.record("expected a skip, got \(outcome)")
            return
        }
        #expect(machine.appliedIndex == 1)
        #expect(machine.store.revision == 1)
    }
}
