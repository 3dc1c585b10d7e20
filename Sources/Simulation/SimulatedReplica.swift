import ConsensusCore
import Replica

/// The simulator's disk and network under a node's replica host: writes go to the node's
/// `SimulatedStorage` (where an armed crash may strike before or after the sync), messages to the
/// simulated network, and an overlapping write completes after the seed's disk latency. Every
/// persist, sync and send is checked as it happens.
public struct SimulatedEffects<Engine: SimulatableEngine>: ReplicaEffects {
    let simulator: Simulator<Engine>
    let node: Int
    /// The first entry index written since the last sync, from where log matching is checked.
    var firstWritten: LogIndex?

    init(simulator: Simulator<Engine>, node: Int) {
        self.simulator = simulator
        self.node = node
    }

    public mutating func write(_ request: PersistRequest<Engine.HardState>) throws(ReplicaInterrupted) {
        let simulator = self.simulator
        if let snapshot = request.snapshot { simulator.checker.checkSnapshotMetadata(node: node, snapshot.metadata) }
        let snapshotDigest = request.snapshot.flatMap { simulator.checker.committedPrefixDigest(at: $0.metadata.index) } ?? 0
        simulator.nodes[node].storage.write(request, snapshotPrefixDigest: snapshotDigest)
        try simulator.writeToWAL(node: node, request)
        if let first = request.entries.first?.index { firstWritten = min(firstWritten ?? first, first) }
        if let slot = request.slots.lazy.map({ $0.index }).min() { firstWritten = min(firstWritten ?? slot, slot) }
        if simulator.nodes[node].armedCrash == .beforeSync { throw simulator.crashNow(node: node, reason: "before sync") }
    }

    public mutating func sync() throws(ReplicaInterrupted) {
        let simulator = self.simulator
        simulator.nodes[node].storage.sync()
        try simulator.syncWAL(node: node)
        // Only what this sync made durable is new: a sync of a hard state alone checks nothing, where
        // checking the whole retained log again made long runs quadratic.
        if let firstWritten { simulator.checker.checkLogMatching(node: node, storage: simulator.nodes[node].storage, from: firstWritten) }
        firstWritten = nil
        if simulator.nodes[node].armedCrash == .afterSync { throw simulator.crashNow(node: node, reason: "after sync") }
    }

    /// The disk syncs while the batch's messages travel; the engine hears when it is done.
    public mutating func syncAfterSends(through index: LogIndex, term: Term) -> Bool {
        simulator.scheduleDiskSync(node: node, index: index, term: term)
        return false
    }

    public mutating func send(_ messages: [Engine.Message]) {
        let simulator = self.simulator
        for message in messages {
            simulator.checker.checkSend(node: node, message: message, storage: simulator.nodes[node].storage)
            guard let target = simulator.slot(of: message.to) else { continue }
            for delay in simulator.network.deliveryDelays(from: node, to: target, random: &simulator.random) {
                simulator.schedule(.deliver(message, node: target), at: simulator.now + delay)
            }
        }
    }

    /// Made at once, and checked: the state machine must have applied exactly the snapshot's index,
    /// and its state there must equal every other replica's.
    public mutating func saveSnapshot(_ metadata: SnapshotMetadata, writer: @escaping @Sendable () -> [UInt8]) -> Snapshot? {
        let simulator = self.simulator
        let applied = simulator.service.appliedIndex(node: node)
        guard applied == metadata.index else {
            simulator.checker.fail("n\(node + 1) was asked for a snapshot at \(metadata.index) but applied \(applied)")
            return nil
        }
        let data = writer()
        simulator.checker.recordState(node: node, index: metadata.index, digest: Digest.of(data), source: "snapshot")
        return Snapshot(metadata: metadata, data: data)
    }
}

/// A simulated node's application as its host sees it: the service's application, with every
/// apply and restore checked against the other replicas.
final class CheckedApplication<Engine: SimulatableEngine>: ReplicaApplication {
    unowned let simulator: Simulator<Engine>
    let node: Int
    let inner: any ReplicaApplication

    init(simulator: Simulator<Engine>, node: Int, inner: any ReplicaApplication) {
        self.simulator = simulator
        self.node = node
        self.inner = inner
    }

    /// Entries go to the service one at a time, so the state after each can be compared where a
    /// snapshot recorded one.
    func apply(_ entries: [Entry], status: EngineStatus) {
        let simulator = self.simulator
        for entry in entries {
            simulator.checker.checkApply(node: node, entry: entry)
            if entry.index > simulator.report.committedEntries {
                simulator.report.committedEntries = entry.index
                if entry.kind == .configuration { simulator.report.configurationsCommitted += 1 }
            }
            inner.apply([entry], status: status)
            if simulator.checker.hasRecordedState(at: entry.index) {
                simulator.checker.recordState(node: node, index: entry.index, digest: simulator.service.stateDigest(node: node), source: "applied state")
            }
        }
    }

    func readReady(_ id: RequestID, index: LogIndex) { inner.readReady(id, index: index) }
    func rejected(_ id: RequestID, _ reason: RequestRejection) { inner.rejected(id, reason) }
    func snapshotWriter() -> @Sendable () -> [UInt8] { inner.snapshotWriter() }

    func restore(_ snapshot: Snapshot) {
        inner.restore(snapshot)
        let applied = simulator.service.appliedIndex(node: node)
        guard applied == snapshot.metadata.index else {
            simulator.checker.fail("n\(node + 1) restored \(snapshot) but its service applied \(applied)")
            return
        }
        simulator.checker.recordState(node: node, index: snapshot.metadata.index, digest: simulator.service.stateDigest(node: node), source: "restored snapshot")
        simulator.report.snapshotsRestored += 1
    }

    func afterIteration(status: EngineStatus, now: ContinuousClock.Instant) { inner.afterIteration(status: status, now: now) }
    func handlePeerRequest(_ payload: [UInt8], from: NodeID, callID: UInt64) -> [UInt8]? { inner.handlePeerRequest(payload, from: from, callID: callID) }
    func handlePeerResponse(id: UInt64, _ payload: [UInt8]) { inner.handlePeerResponse(id: id, payload) }
    func acceptsForwardedProposal(_ data: [UInt8]) -> Bool { inner.acceptsForwardedProposal(data) }
    func storageSpace(exhausted: Bool) { inner.storageSpace(exhausted: exhausted) }
}

/// A simulated node as its service reaches it: requests become host inputs scheduled at the
/// current virtual time, and node-level calls travel the simulated network. Everything runs on the
/// simulator's one thread; a handle of a crashed process does nothing.
final class SimulatedReplicaHandle<Engine: SimulatableEngine>: ReplicaHandle, @unchecked Sendable {
    unowned let simulator: Simulator<Engine>
    let node: Int
    let incarnation: UInt64

    init(simulator: Simulator<Engine>, node: Int, incarnation: UInt64) {
        self.simulator = simulator
        self.node = node
        self.incarnation = incarnation
    }

    var isCurrent: Bool { simulator.nodes[node].incarnation == incarnation && simulator.nodes[node].host != nil }

    var status: EngineStatus {
        simulator.nodes[node].host?.status ?? EngineStatus(id: simulator.nodeIDs[node], term: 0, isLeader: false, leader: nil, commitIndex: 0, appliedIndex: 0)
    }

    var durableSnapshotIndex: UInt64 { simulator.nodes[node].storage.snapshot?.metadata.index ?? 0 }

    func input(_ input: HostInput<Engine.Message>) -> Bool {
        guard isCurrent else { return false }
        simulator.schedule(.host(node: node, incarnation: incarnation, input), at: simulator.now)
        return true
    }

    func propose(_ proposal: Proposal) -> Bool { input(.proposal(proposal)) }
    func read(_ id: RequestID) -> Bool { input(.event(.read(id))) }
    func changeMembership(_ id: RequestID, _ change: MembershipChange) -> Bool { input(.event(.changeMembership(id, change))) }
    func transferLeadership(_ id: RequestID, to target: NodeID) -> Bool { input(.event(.transferLeadership(id, to: target))) }
    func snapshotNow() -> Bool { input(.event(.snapshotNow)) }
    func perform(_ work: @escaping () -> Void) -> Bool { input(.work(work)) }
    func performAlways(_ work: @escaping () -> Void) { _ = input(.work(work)) }

    /// The call reaches the peer's application over the simulated network (or is lost), and its
    /// answer comes back the same way.
    func call(_ peer: NodeID, callID: UInt64, payload: [UInt8]) {
        let simulator = self.simulator
        guard isCurrent, let target = simulator.slot(of: peer) else { return }
        let caller = simulator.nodeIDs[node]
        simulator.sendBetweenHosts(from: node, to: target) { application in
            guard let answer = application.handlePeerRequest(payload, from: caller, callID: callID) else { return }
            simulator.nodes[target].handle?.respond(to: caller, callID: callID, payload: answer)
        }
    }

    func respond(to peer: NodeID, callID: UInt64, payload: [UInt8]) {
        guard isCurrent, let target = simulator.slot(of: peer) else { return }
        simulator.sendBetweenHosts(from: node, to: target) { application in
            application.handlePeerResponse(id: callID, payload)
        }
    }
}

/// What a service hands a simulated node's host: engine events, proposals, and work to run on
/// the node's thread.
enum HostInput<Message: EngineMessage> {
    case event(EngineEvent<Message>)
    case proposal(Proposal)
    case work(() -> Void)
}
