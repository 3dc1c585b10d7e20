import ConsensusCore
import Linearizability
import Replica

/// The service a simulated cluster runs on its replica hosts, with the clients' view of it: the
/// simulator's own key-value state machine (`KeyValueService`), or the real etcd service
/// (`EtcdSimulation`). A service knows nothing of the engine: it reaches its replica only through
/// `ReplicaHandle`, as it does on a node, which is how any front end runs on any engine.
public protocol SimulatedService: AnyObject {
    /// A name for reports and replay commands ("kv", "etcd").
    var name: String { get }

    /// A new process of `node` starts: returns its application, empty. The simulator then hands
    /// it the durable snapshot, if any, through `ReplicaApplication.restore`.
    func start(node: Int, id: NodeID, replica: any ReplicaHandle, environment: ReplicaEnvironment) -> any ReplicaApplication
    /// `node`'s process died: everything volatile is gone, and nobody answers its clients.
    func crashed(node: Int)
    /// The index `node`'s state machine has applied.
    func appliedIndex(node: Int) -> LogIndex
    /// A digest of `node`'s state as applied now: equal on every node at the same index, and
    /// equal to the digest of the bytes of a snapshot taken there.
    func stateDigest(node: Int) -> UInt64

    /// Sends one attempt of a client's operation to `node`. `answer` is called at most once, on the
    /// simulator's thread, unless the node crashes first.
    func submit(_ input: KeyValueModel.Input, client: Int, sequence: UInt64, to node: Int, answer: @escaping (ServiceAnswer) -> Void)

    /// Whether a client may send a write again after an attempt went unanswered: true when the
    /// service deduplicates retries (client sessions), false when a retry could apply twice.
    var retriesWritesSafely: Bool { get }

    /// Checks made once the run is over, beyond the linearizability of the clients' history;
    /// returns the violations.
    func finalViolations() -> [String]

    /// What the service's checkers counted, by name (`watch_events`, say), for the summary.
    func counters() -> [String: Int]
    /// The operator freed space on every disk that filled: a service that refuses writes while a
    /// disk is full, until told otherwise (etcd's NOSPACE alarm, which `etcdctl alarm disarm`
    /// clears), is told now. Called at each of the operator's looks while no disk is full.
    func disksHaveRoom()
    /// Whether the service also takes deletes and atomic operations on several keys (the first
    /// two keys, which then form one partition of the linearizability check).
    var takesMultiKeyOperations: Bool { get }
}

extension SimulatedService {
    public func finalViolations() -> [String] { [] }
    public func counters() -> [String: Int] { [:] }
    public var retriesWritesSafely: Bool { true }
    public var takesMultiKeyOperations: Bool { false }
    public func disksHaveRoom() {}
}

/// Makes the service for one run, given the run's cluster size and options.
public typealias SimulatedServiceFactory = @Sendable (_ nodeCount: Int, _ options: SimulationOptions) -> SimulatedService

/// How a service answered one attempt.
public enum ServiceAnswer: Sendable {
    case output(KeyValueModel.Output)
    /// Definitely not performed (a refusal): safe to retry anywhere.
    case refused(RequestRejection?)
    /// Perhaps performed (a timeout after the request reached the log): the client must not
    /// retry a write that has no session to deduplicate it.
    case unknown
}
