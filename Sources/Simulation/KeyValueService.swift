import ConsensusCore
import Linearizability
import Replica

/// The simulator's own service: `KeyValueStateMachine` (registers with client sessions, so a
/// retried write applies once) on every node, reached as a real front end reaches its replica.
public final class KeyValueService: SimulatedService {
    public var name: String { "kv" }
    private var replicas: [KeyValueReplica?]

    public init(nodeCount: Int) {
        replicas = Array(repeating: nil, count: nodeCount)
    }

    public func start(node: Int, id: NodeID, replica: any ReplicaHandle, environment: ReplicaEnvironment) -> any ReplicaApplication {
        let application = KeyValueReplica(replica: replica, firstRequest: environment.random() >> 1 | 1)
        replicas[node] = application
        return application
    }

    public func crashed(node: Int) { replicas[node] = nil }

    public func appliedIndex(node: Int) -> LogIndex { replicas[node]?.machine.appliedIndex ?? 0 }

    public func stateDigest(node: Int) -> UInt64 { Digest.of(replicas[node]?.machine.snapshotData ?? []) }

    public func submit(_ input: KeyValueModel.Input, client: Int, sequence: UInt64, to node: Int, answer: @escaping (ServiceAnswer) -> Void) {
        guard let replica = replicas[node] else { return }
        replica.submit(input, client: client, sequence: sequence, answer: answer)
    }
}

/// One node's key-value application.
final class KeyValueReplica: ReplicaApplication {
    let replica: any ReplicaHandle
    var machine = KeyValueStateMachine()
    /// Request ids start at a random point, so a restarted node never reuses one its previous
    /// process sent: the leader drops a forwarded proposal whose sender and id it saw lately
    /// (`RecentProposals`), and the client of a reused id would never hear back (seed 1038).
    private var nextRequest: UInt64
    /// Writes proposed through this node, by session, awaiting their apply.
    private var awaitingWrites: [SessionKey: (request: RequestID, answer: (ServiceAnswer) -> Void)] = [:]
    /// The session of each write request, to answer a refusal.
    private var writeSessions: [RequestID: SessionKey] = [:]
    /// Reads by request, with the key, and the index to wait for once the engine declared them ready.
    private var reads: [RequestID: (key: String, answer: (ServiceAnswer) -> Void)] = [:]
    private var readsAwaitingApply: [(index: LogIndex, id: RequestID)] = []

    struct SessionKey: Hashable {
        var client: Int
        var sequence: UInt64
    }

    init(replica: any ReplicaHandle, firstRequest: UInt64) {
        self.replica = replica
        nextRequest = firstRequest
    }

    func submit(_ input: KeyValueModel.Input, client: Int, sequence: UInt64, answer: @escaping (ServiceAnswer) -> Void) {
        let id = RequestID(nextRequest)
        nextRequest += 1
        let operation: KeyValueCommand.Operation
        switch input {
        case .get(let key):
            reads[id] = (key, answer)
            if !replica.read(id) { refuse(id, nil) }
            return
        case .put(let key, let value): operation = .put(key: key, value: value)
        case .compareAndSet(let key, let expected, let new): operation = .compareAndSet(key: key, expected: expected, new: new)
        case .delete, .putAll, .getAll:
            // `takesMultiKeyOperations` is false: the clients never draw these for this service.
            preconditionFailure("the key-value service takes no \(input)")
        }
        let session = SessionKey(client: client, sequence: sequence)
        // A retry supersedes the earlier attempt's waiter: the session applies the write once,
        // and whichever apply comes answers the latest attempt.
        if let earlier = awaitingWrites[session] { writeSessions[earlier.request] = nil }
        awaitingWrites[session] = (id, answer)
        writeSessions[id] = session
        let command = KeyValueCommand(client: client, sequence: sequence, operation: operation)
        if !replica.propose(Proposal(id: id, data: command.encoded)) { refuse(id, nil) }
    }

    private func refuse(_ id: RequestID, _ reason: RequestRejection?) {
        if let read = reads.removeValue(forKey: id) { return read.answer(.refused(reason)) }
        guard let session = writeSessions.removeValue(forKey: id), let write = awaitingWrites[session], write.request == id else { return }
        awaitingWrites[session] = nil
        write.answer(.refused(reason))
    }

    func apply(_ entries: [Entry], status: EngineStatus) {
        for entry in entries {
            guard let applied = machine.apply(entry), !awaitingWrites.isEmpty else { continue }
            let session = SessionKey(client: applied.client, sequence: applied.sequence)
            guard let write = awaitingWrites.removeValue(forKey: session) else { continue }
            writeSessions[write.request] = nil
            write.answer(.output(applied.output))
        }
        serveReadsAwaitingApply()
    }

    func readReady(_ id: RequestID, index: LogIndex) {
        readsAwaitingApply.append((index, id))
        serveReadsAwaitingApply()
    }

    private func serveReadsAwaitingApply() {
        guard !readsAwaitingApply.isEmpty else { return }
        var waiting: [(index: LogIndex, id: RequestID)] = []
        for read in readsAwaitingApply {
            guard read.index <= machine.appliedIndex else {
                waiting.append(read)
                continue
            }
            guard let pending = reads.removeValue(forKey: read.id) else { continue }
            pending.answer(.output(.value(machine.value(of: pending.key))))
        }
        readsAwaitingApply = waiting
    }

    func rejected(_ id: RequestID, _ reason: RequestRejection) { refuse(id, reason) }

    func snapshotWriter() -> @Sendable () -> [UInt8] {
        let data = machine.snapshotData
        return { data }
    }

    func restore(_ snapshot: Snapshot) {
        guard let restored = KeyValueStateMachine(restoring: snapshot.data) else { preconditionFailure("a snapshot the checker recorded does not decode") }
        machine = restored
    }

    func afterIteration(status: EngineStatus, now: ContinuousClock.Instant) {}
    func handlePeerRequest(_ payload: [UInt8], from: NodeID, callID: UInt64) -> [UInt8]? { nil }
    func handlePeerResponse(id: UInt64, _ payload: [UInt8]) {}
    func acceptsForwardedProposal(_ data: [UInt8]) -> Bool { true }
    func storageSpace(exhausted: Bool) {}
}
