import ConsensusCore
import Replica

/// The simulator's disk and network under a node's replica host: writes go to the node's
/// `SimulatedStorage` (where an armed crash may strike before or after the sync), messages to the
/// simulated network, and an overlapping write completes after the seed's disk latency. Every
/// persist, sync and send is checked as it happens.
struct SimulatedEffects<Engine: SimulatableEngine>: ReplicaEffects {
    unowned let simulator: Simulator<Engine>
    let node: Int
    /// The first entry index written since the last sync, from where log matching is checked.
    private var firstWritten: LogIndex?

    init(simulator: Simulator<Engine>, node: Int) {
        self.simulator = simulator
        self.node = node
    }

    mutating func write(_ request: PersistRequest<Engine.HardState>) throws(ReplicaInterrupted) {
        let simulator = self.simulator
        if let snapshot = request.snapshot { simulator.checker.checkSnapshotMetadata(node: node, snapshot.metadata) }
        let snapshotDigest = request.snapshot.flatMap { simulator.checker.committedPrefixDigest(at: $0.metadata.index) } ?? 0
        simulator.nodes[node].storage.write(request, snapshotPrefixDigest: snapshotDigest)
        if let first = request.entries.first?.index { firstWritten = min(firstWritten ?? first, first) }
        if simulator.nodes[node].armedCrash == .beforeSync { throw simulator.crashNow(node: node, reason: "before sync") }
    }

    mutating func sync() throws(ReplicaInterrupted) {
        let simulator = self.simulator
        simulator.nodes[node].storage.sync()
        simulator.checker.checkLogMatching(node: node, storage: simulator.nodes[node].storage, from: firstWritten ?? 0)
        firstWritten = nil
        if simulator.nodes[node].armedCrash == .afterSync { throw simulator.crashNow(node: node, reason: "after sync") }
    }

    /// The disk syncs while the batch's messages travel; the engine hears when it is done.
    mutating func syncAfterSends(through index: LogIndex, term: Term) -> Bool {
        simulator.scheduleDiskSync(node: node, index: index, term: term)
        return false
    }

    mutating func send(_ messages: [Engine.Message]) {
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
    mutating func saveSnapshot(_ metadata: SnapshotMetadata, writer: @escaping @Sendable () -> [UInt8]) -> Snapshot? {
        let simulator = self.simulator
        let applied = simulator.nodes[node].stateMachine.appliedIndex
        guard applied == metadata.index else {
            simulator.checker.fail("n\(node + 1) was asked for a snapshot at \(metadata.index) but applied \(applied)")
            return nil
        }
        let data = writer()
        simulator.checker.recordState(node: node, index: metadata.index, digest: Digest.of(data), source: "snapshot")
        return Snapshot(metadata: metadata, data: data)
    }
}

/// A simulated node's application: the key-value state machine the simulated clients use, fed by
/// the node's replica host exactly as a real node's service is.
final class SimulatedReplica<Engine: SimulatableEngine>: ReplicaApplication {
    unowned let simulator: Simulator<Engine>
    let node: Int

    init(simulator: Simulator<Engine>, node: Int) {
        self.simulator = simulator
        self.node = node
    }

    func apply(_ entries: [Entry], status: EngineStatus) {
        for entry in entries { simulator.apply(entry, node: node) }
    }

    func readReady(_ id: RequestID, index: LogIndex) {
        simulator.nodes[node].readsAwaitingApply.append((index, id))
    }

    func rejected(_ id: RequestID, _ reason: RequestRejection) {
        simulator.attemptFailed(node: node, request: id, reason: reason)
    }

    func snapshotWriter() -> @Sendable () -> [UInt8] {
        let data = simulator.nodes[node].stateMachine.snapshotData
        return { data }
    }

    func restore(_ snapshot: Snapshot) {
        guard let machine = KeyValueStateMachine(restoring: snapshot.data), machine.appliedIndex == snapshot.metadata.index else {
            simulator.checker.fail("n\(node + 1) could not restore \(snapshot)")
            return
        }
        simulator.checker.recordState(node: node, index: snapshot.metadata.index, digest: Digest.of(machine.snapshotData), source: "restored snapshot")
        simulator.report.snapshotsRestored += 1
        simulator.nodes[node].stateMachine = machine
    }

    func afterIteration(status: EngineStatus, now: ContinuousClock.Instant) {}
    func handlePeerRequest(_ payload: [UInt8], from: NodeID, callID: UInt64) -> [UInt8]? { nil }
    func handlePeerResponse(id: UInt64, _ payload: [UInt8]) {}
    func acceptsForwardedProposal(_ data: [UInt8]) -> Bool { true }
    func storageSpace(exhausted: Bool) {}
}
