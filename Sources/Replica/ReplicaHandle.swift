import ConsensusCore

/// What a front end (the etcd service, the ZooKeeper service) asks of the replica that hosts it:
/// the node's `ReplicaLoop`, or a simulated node. The methods may be called from any thread; work
/// and answers come back on the replica's own (the loop's thread, or the simulator's step).
/// Methods returning Bool return false when the replica's queue is full: the caller answers its
/// client at once that the server is busy.
public protocol ReplicaHandle: AnyObject, Sendable {
    /// The engine's status after the replica's last batch.
    var status: EngineStatus { get }
    /// The index of the newest snapshot that is durable with the log behind it released.
    var durableSnapshotIndex: UInt64 { get }

    /// Offers a command for the log; answered through `ReplicaApplication.apply` (the entry) or
    /// `rejected`.
    func propose(_ proposal: Proposal) -> Bool
    /// Asks for a linearizable read; answered through `readReady` or `rejected`.
    func read(_ id: RequestID) -> Bool
    func changeMembership(_ id: RequestID, _ change: MembershipChange) -> Bool
    func transferLeadership(_ id: RequestID, to target: NodeID) -> Bool
    /// Asks for a snapshot now, and the log behind it released (etcd's Defragment).
    func snapshotNow() -> Bool
    /// Runs `work` on the replica's thread, after the current batch.
    func perform(_ work: @escaping () -> Void) -> Bool
    /// `perform` for clean-up that must never be refused; callers bound it themselves.
    func performAlways(_ work: @escaping () -> Void)
    /// A node-level call to `peer`; its answer comes to `ReplicaApplication.handlePeerResponse`.
    func call(_ peer: NodeID, callID: UInt64, payload: [UInt8])
    /// Answers a call a peer made, later than `handlePeerRequest` returned.
    func respond(to peer: NodeID, callID: UInt64, payload: [UInt8])
}
