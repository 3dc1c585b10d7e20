import ConsensusCore
import EtcdServer
import Linearizability
import Logging
import MVCC
import Replica
import Simulation

/// The real etcd service (`EtcdService`: the MVCC store, the lessor, the watch hub, the requests
/// waiting on the log) on every simulated node, under the simulator's faults. Clients' registers
/// become etcd requests: a get is a linearizable range of one key, a put a put, and a
/// compare-and-set a txn comparing the value (or, for an absent key, the create revision 0).
///
/// Besides the history's linearizability, it checks that the revision a member answers with never
/// goes back, and that running members at the same revision hold the same keyspace (HashKV).
///
/// `@unchecked Sendable`: the service's completions are `Sendable`, but in the simulator they all
/// run on its one thread.
public final class EtcdSimulatedService: SimulatedService, @unchecked Sendable {
    public var name: String { "etcd" }

    static let clusterToken = "synod-simulation"
    let founders: [EtcdMember]
    let clusterID: UInt64
    /// Each node's running service; nil while crashed.
    private var services: [EtcdService?]
    /// The highest revision each member answered a linearizable request with, across restarts.
    private var revisionsAnswered: [Int64]
    private var violations: [String] = []
    let tickMicros: UInt64
    /// Deliberate defects by node slot, for the checkers' mutation tests.
    let faults: [Int: EtcdServiceFaults]

    public init(nodeCount: Int, tickMicros: UInt64, faults: [Int: EtcdServiceFaults] = [:]) {
        self.faults = faults
        founders = (1...nodeCount).map { Self.member(id: NodeID(UInt64($0)), slot: $0 - 1) }
        clusterID = EtcdMember.clusterID(members: founders.map(\.id), clusterToken: Self.clusterToken)
        services = Array(repeating: nil, count: nodeCount)
        revisionsAnswered = Array(repeating: 0, count: nodeCount)
        self.tickMicros = tickMicros
    }

    static func member(id: NodeID, slot: Int) -> EtcdMember {
        EtcdMember(id: id, name: "n\(slot + 1)-\(id.rawValue)", peerURLs: ["http://n\(slot + 1)-\(id.rawValue):2380"], clientURLs: ["http://n\(slot + 1):2379"])
    }

    public var retriesWritesSafely: Bool { false }

    public func start(node: Int, id: NodeID, replica: any ReplicaHandle, environment: ReplicaEnvironment) -> any ReplicaApplication {
        let founding = founders.contains { $0.id == id }
        var limits = EtcdService.Limits()
        // Shorter than a client's attempt (40 ticks), so a write that went unanswered is reported
        // as indeterminate by the service rather than retried by the client.
        limits.requestTimeout = .microseconds(Int64(tickMicros) * 30)
        let service = EtcdService(
            identity: founders.first { $0.id == id } ?? Self.member(id: id, slot: node),
            members: founding ? founders : [], clusterID: clusterID, clusterToken: Self.clusterToken,
            replica: replica, environment: environment, limits: limits,
            electionTimeout: .microseconds(Int64(tickMicros) * 10), logger: Self.silent, faults: faults[node] ?? EtcdServiceFaults())
        if founding { service.bootstrap() }
        services[node] = service
        return service
    }

    /// For `SeedSweep` and `Simulator`.
    public static let factory: SimulatedServiceFactory = { nodeCount, options in
        EtcdSimulatedService(nodeCount: nodeCount, tickMicros: options.tickMicros)
    }

    /// The service with deliberate defects on some nodes (by slot; `allNodes` for every one).
    public static func factory(faults: EtcdServiceFaults, onNodes slots: Set<Int>? = nil) -> SimulatedServiceFactory {
        { nodeCount, options in
            let chosen = slots ?? Set(0..<nodeCount)
            return EtcdSimulatedService(nodeCount: nodeCount, tickMicros: options.tickMicros, faults: Dictionary(uniqueKeysWithValues: chosen.map { ($0, faults) }))
        }
    }

    static let silent = Logger(label: "synod.simulation") { _ in SwiftLogNoOpLogHandler() }

    public func crashed(node: Int) { services[node] = nil }

    public func appliedIndex(node: Int) -> LogIndex { services[node]?.appliedIndexOnReplica ?? 0 }

    public func stateDigest(node: Int) -> UInt64 {
        guard let service = services[node] else { return 0 }
        return Digest.of(service.snapshotWriter()())
    }

    public func submit(_ input: KeyValueModel.Input, client: Int, sequence: UInt64, to node: Int, answer: @escaping (ServiceAnswer) -> Void) {
        guard let service = services[node] else { return }
        let reply = Reply(answer)
        switch input {
        case .get(let key):
            service.linearizableRange(RangeRequest(key: Array(key.utf8))) { [self] result in
                switch result {
                case .success(let read):
                    answered(node: node, revision: read.revision)
                    reply.send(.output(.value(read.result.kvs.first.map { String(decoding: $0.value, as: UTF8.self) })))
                case .failure(let failure):
                    reply.send(Self.answer(failure))
                }
            }
        case .put(let key, let value):
            service.submit(.put(PutRequest(key: Array(key.utf8), value: Array(value.utf8)))) { [self] result in
                switch result {
                case .success(let write):
                    answered(node: node, revision: write.revision)
                    reply.send(.output(.ok))
                case .failure(let failure):
                    reply.send(Self.answer(failure))
                }
            }
        case .compareAndSet(let key, let expected, let new):
            let keyBytes = Array(key.utf8)
            let compare = expected.map { Compare(key: keyBytes, result: .equal, target: .value(Array($0.utf8))) }
                ?? Compare(key: keyBytes, result: .equal, target: .createRevision(0))
            let txn = TxnRequest(compare: [compare], success: [.put(PutRequest(key: keyBytes, value: Array(new.utf8)))])
            service.submit(.txn(txn)) { [self] result in
                switch result {
                case .success(let write):
                    guard case .txn(let outcome) = write.outcome else {
                        violations.append("n\(node + 1) answered a txn with \(write.outcome)")
                        return reply.send(.unknown)
                    }
                    answered(node: node, revision: write.revision)
                    reply.send(.output(.compareAndSet(succeeded: outcome.succeeded)))
                case .failure(let failure):
                    reply.send(Self.answer(failure))
                }
            }
        }
    }

    static func answer(_ failure: InProcessFailure) -> ServiceAnswer {
        switch failure {
        case .refused: return .refused(nil)
        case .indeterminate: return .unknown
        }
    }

    /// A member's answers never go back in revision: each is linearizable, so each reflects at
    /// least everything the member answered before, restarts included.
    private func answered(node: Int, revision: Int64) {
        if revision < revisionsAnswered[node] {
            violations.append("revision went back: n\(node + 1) answered at revision \(revision) after \(revisionsAnswered[node])")
        }
        revisionsAnswered[node] = max(revisionsAnswered[node], revision)
    }

    /// Running members at the same revision hold the same keyspace.
    public func finalViolations() -> [String] {
        var hashes: [Int64: (node: Int, hash: UInt32)] = [:]
        for node in services.indices {
            guard let state = services[node]?.appliedKeyspace else { continue }
            if let other = hashes[state.revision], other.hash != state.hashKV {
                violations.append("n\(node + 1) and n\(other.node + 1) differ at revision \(state.revision): HashKV \(state.hashKV) and \(other.hash)")
            }
            hashes[state.revision] = (node, state.hashKV)
        }
        return violations
    }
}

/// A client's answer callback, carried through the service's `Sendable` completions: everything
/// runs on the simulator's one thread.
private final class Reply: @unchecked Sendable {
    let send: (ServiceAnswer) -> Void
    init(_ send: @escaping (ServiceAnswer) -> Void) { self.send = send }
}
