import ConsensusCore
import Replica
import Testing

/// A service that records what the router hands it.
final class RecordingService: HostedService {
    let tag: ServiceTag
    var applied: [Entry] = []
    var readsReady: [RequestID] = []
    var refusals: [(RequestID, RequestRejection)] = []
    var restored: [Snapshot] = []
    var peerRequests: [[UInt8]] = []
    var peerResponses: [UInt64] = []
    var state: [UInt8]

    init(tag: ServiceTag, state: [UInt8] = []) {
        self.tag = tag
        self.state = state
    }

    func apply(_ entries: [Entry], status: EngineStatus) { applied += entries }
    func readReady(_ id: RequestID, index: LogIndex) { readsReady.append(id) }
    func rejected(_ id: RequestID, _ reason: RequestRejection) { refusals.append((id, reason)) }
    func snapshotWriter() -> @Sendable () -> [UInt8] {
        let copy = state
        return { copy }
    }
    func restore(_ snapshot: Snapshot) {
        restored.append(snapshot)
        state = snapshot.data
    }
    func afterIteration(status: EngineStatus, now: ContinuousClock.Instant) {}
    func handlePeerRequest(_ payload: [UInt8], from: NodeID, callID: UInt64) -> [UInt8]? {
        peerRequests.append(payload)
        return [tag.rawValue]
    }
    func handlePeerResponse(id: UInt64, _ payload: [UInt8]) { peerResponses.append(id) }
    func acceptsForwardedProposal(_ data: [UInt8]) -> Bool { data.count > 1 }
    func storageSpace(exhausted: Bool) {}
    func acceptsSnapshotPart(_ part: [UInt8]) -> Bool { part != [0xBA, 0xD0] }
}

@Suite struct ServiceRouterTests {
    let status = EngineStatus(id: NodeID(1), term: 1, isLeader: true, leader: NodeID(1), commitIndex: 0, appliedIndex: 0)

    func twoServices() -> (ServiceRouter, RecordingService, RecordingService) {
        let router = ServiceRouter()
        let etcd = RecordingService(tag: .etcd, state: [1])
        let zookeeper = RecordingService(tag: .zookeeper, state: [2, 2])
        router.add(zookeeper)
        router.add(etcd)
        return (router, etcd, zookeeper)
    }

    @Test func eachServiceSeesItsOwnCommandsAndOthersAsNoOpsAtTheSameIndexes() {
        let (router, etcd, zookeeper) = twoServices()
        let entries = [
            Entry(index: 1, term: 1, kind: .noop),
            Entry(index: 2, term: 1, data: [ServiceTag.etcd.rawValue, 7]),
            Entry(index: 3, term: 1, data: [ServiceTag.zookeeper.rawValue, 8]),
            Entry(index: 4, term: 1, data: [1, 0]),  // written before tags: etcd's
            Entry(index: 5, term: 1, data: [0xEE]),  // nobody's
            Entry(index: 6, term: 1, kind: .configuration, data: [1]),
        ]
        router.apply(entries, status: status)
        #expect(etcd.applied.map(\.index) == [1, 2, 3, 4, 5, 6])
        #expect(zookeeper.applied.map(\.index) == [1, 2, 3, 4, 5, 6])
        #expect(etcd.applied.filter { $0.kind == .command }.map(\.data) == [[ServiceTag.etcd.rawValue, 7], [1, 0]])
        #expect(zookeeper.applied.filter { $0.kind == .command }.map(\.data) == [[ServiceTag.zookeeper.rawValue, 8]])
        #expect(etcd.applied[5].kind == .configuration && zookeeper.applied[5].kind == .configuration)
        #expect(router.skippedEntries == 1)
    }

    @Test func answersAndPeerCallsFindTheirServiceByTag() {
        let (router, etcd, zookeeper) = twoServices()
        let etcdRead = ServiceTag.etcd.requestID(42)
        let zkWrite = ServiceTag.zookeeper.requestID(42)
        router.readReady(etcdRead, index: 1)
        router.rejected(zkWrite, .noLeader)
        router.readReady(ServiceTag(rawValue: 0x01).requestID(1), index: 1)  // nobody's: dropped
        #expect(etcd.readsReady == [etcdRead] && zookeeper.readsReady.isEmpty)
        #expect(zookeeper.refusals.map(\.0) == [zkWrite] && etcd.refusals.isEmpty)

        #expect(router.handlePeerRequest([ServiceTag.zookeeper.rawValue, 5, 6], from: NodeID(2), callID: 9) == [ServiceTag.zookeeper.rawValue])
        #expect(zookeeper.peerRequests == [[5, 6]] && etcd.peerRequests.isEmpty)
        #expect(router.handlePeerRequest([0x01, 5], from: NodeID(2), callID: 9) == nil)
        router.handlePeerResponse(id: ServiceTag.etcd.requestID(3).rawValue, [])
        #expect(etcd.peerResponses == [ServiceTag.etcd.requestID(3).rawValue] && zookeeper.peerResponses.isEmpty)
    }

    @Test func forwardedProposalsOfNoServiceOrThatDoNotDecodeAreRefused() {
        let (router, _, _) = twoServices()
        #expect(router.acceptsForwardedProposal([ServiceTag.etcd.rawValue, 1]))
        #expect(!router.acceptsForwardedProposal([ServiceTag.etcd.rawValue]))  // the service refuses it
        #expect(!router.acceptsForwardedProposal([0xEE, 1]))
        #expect(!router.acceptsForwardedProposal([]))
    }

    @Test func theSnapshotIsOnePartPerServiceAndRestoresEach() throws {
        let (router, etcd, zookeeper) = twoServices()
        let bytes = router.snapshotWriter()()
        #expect(try CompositeSnapshot(decoding: bytes).parts == [.etcd: [1], .zookeeper: [2, 2]])
        #expect(router.acceptsSnapshot(bytes))
        #expect(!router.acceptsSnapshot(CompositeSnapshot(parts: [.etcd: [0xBA, 0xD0]]).encoded))
        #expect(!router.acceptsSnapshot(CompositeSnapshot.magic + [9]))

        let metadata = SnapshotMetadata(index: 7, term: 2, membership: Membership(voters: [NodeID(1)]))
        router.restore(Snapshot(metadata: metadata, data: CompositeSnapshot(parts: [.etcd: [5]]).encoded))
        #expect(etcd.state == [5])
        // A service the snapshot has no part for starts empty at its index.
        #expect(zookeeper.state.isEmpty && zookeeper.restored.map(\.metadata.index) == [7])
    }

    @Test func aServiceCannotProposeUnderAnotherTag() {
        let replica = QueueReplica()
        let (router, etcd, _) = twoServices()
        let handle = router.handle(for: .etcd, over: replica)
        #expect(handle.propose(Proposal(id: ServiceTag.etcd.requestID(1), data: [ServiceTag.etcd.rawValue, 1])))
        #expect(handle.propose(Proposal(id: ServiceTag.etcd.requestID(2), data: [ServiceTag.zookeeper.rawValue, 1])))
        #expect(replica.proposed.map(\.id) == [ServiceTag.etcd.requestID(1)])
        replica.runPerformed()
        guard case .invalidProposal? = etcd.refusals.first?.1 else {
            Issue.record("expected an invalid-proposal refusal, got \(etcd.refusals)")
            return
        }
        handle.call(NodeID(2), callID: 1, payload: [7])
        #expect(replica.calls == [[ServiceTag.etcd.rawValue, 7]])
    }
}

/// A replica that records what it is asked and runs performed work when told.
final class QueueReplica: ReplicaHandle, @unchecked Sendable {
    var proposed: [Proposal] = []
    var calls: [[UInt8]] = []
    var performed: [() -> Void] = []
    var status: EngineStatus { EngineStatus(id: NodeID(1), term: 1, isLeader: true, leader: NodeID(1), commitIndex: 0, appliedIndex: 0) }
    var durableSnapshotIndex: UInt64 { 0 }
    func propose(_ proposal: Proposal) -> Bool {
        proposed.append(proposal)
        return true
    }
    func read(_ id: RequestID) -> Bool { true }
    func changeMembership(_ id: RequestID, _ change: MembershipChange) -> Bool { true }
    func transferLeadership(_ id: RequestID, to target: NodeID) -> Bool { true }
    func snapshotNow() -> Bool { true }
    func perform(_ work: @escaping () -> Void) -> Bool {
        performed.append(work)
        return true
    }
    func performAlways(_ work: @escaping () -> Void) { performed.append(work) }
    func call(_ peer: NodeID, callID: UInt64, payload: [UInt8]) { calls.append(payload) }
    func respond(to peer: NodeID, callID: UInt64, payload: [UInt8]) {}
    func runPerformed() {
        let work = performed
        performed = []
        for item in work { item() }
    }
}
